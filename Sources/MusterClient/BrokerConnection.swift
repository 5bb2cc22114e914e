import AsyncHTTPClient
import Foundation
import Logging
import MusterCore
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// The HTTP connection to one broker, shared by the clients that speak to it: an ``OperatorClient`` (operator
/// token) and any number of ``AgentClient``s (one node token each).
///
/// A connection runs every call through one pipeline: it adds the bearer token, sends the request with
/// AsyncHTTPClient, retries what is safe to retry with jittered exponential backoff (see ``RetryPolicy``), decodes
/// the JSON reply with `WireFormat`, and turns every failure into a ``BrokerClientError``.
///
/// **Which calls are retried.** Reads (`GET`) and the agent calls the broker deduplicates (check-in, output
/// append with line indexes, script reports, the final report) are retried on connection errors and on 429, 502, 503
/// and 504, up to ``BrokerConfiguration/retry``. Operator actions (create, launch, add nodes, retry, kill,
/// terminate) are retried only when the request provably never reached the broker (the connection could not be
/// made), so that no action is ever applied twice.
///
/// **Lifetime.** Pass an `HTTPClient` you own and shut down yourself, or let the connection create its own
/// clients; then call ``shutdown()`` when done (AsyncHTTPClient requires it).
///
/// **Logging.** Calls are logged at `debug` with method, path, status, sizes and durations: never a token, and
/// never a request or response body (answers carry data values, which may be secrets).
///
/// ```swift
/// let connection = try BrokerConnection(configuration: BrokerConfiguration(url: "http://127.0.0.1:7077"), logger: logger)
/// defer { Task { try await connection.shutdown() } }
/// let contexts = try await connection.operatorClient(token: token).contexts()
/// ```
public final class BrokerConnection: Sendable {
    /// How the connection reaches the broker.
    public let configuration: BrokerConfiguration
    /// Where the connection logs.
    public let logger: Logger

    let client: HTTPClient
    let streamClient: HTTPClient
    let sleep: @Sendable (Duration) async throws -> Void
    private let ownsClients: Bool
    let shutDownState = Mutex(false)
    /// Which of ``BrokerConfiguration/baseURLs`` calls and streams go to now.
    private let active = Mutex(0)

    /// The address calls and streams go to now (the first of ``BrokerConfiguration/baseURLs`` until it fails).
    public var activeBaseURL: String { configuration.baseURLs[active.withLock { $0 }] }

    /// Moves on to the next address after a failure at `base` (only if `base` is still the active one, so that
    /// several calls failing at once move on once).
    func failover(from base: String) {
        let urls = configuration.baseURLs
        guard urls.count > 1 else { return }
        let moved = active.withLock { index -> String? in
            guard urls[index] == base else { return nil }
            index = (index + 1) % urls.count
            return urls[index]
        }
        if let moved { logger.info("moving to another broker address", metadata: ["from": "\(base)", "to": "\(moved)"]) }
    }

    /// Connects to the broker described by `configuration` (no request is sent until the first call).
    ///
    /// - Parameters:
    ///   - configuration: The broker's address, timeouts, retry policies and TLS options.
    ///   - httpClient: An HTTP client to use for calls and streams. You keep ownership: shut it down after the
    ///     connection is done. Its own configuration then applies (redirects, TLS, read timeout), so
    ///     ``BrokerConfiguration/tls`` and ``BrokerConfiguration/Timeouts/streamIdle`` are not used. `nil` (the
    ///     default): the connection creates and owns its clients; call ``shutdown()``.
    ///   - logger: Where to log (at `debug`: calls, retries, reconnects; never tokens or bodies).
    ///   - sleep: How to wait between retries. Tests pass a closure that records the delays and returns at once.
    /// - Throws: ``BrokerClientError`` with code ``BrokerClientError/Code/invalidConfiguration`` if the CA
    ///   certificate file or PEM cannot be read.
    public init(
        configuration: BrokerConfiguration,
        httpClient: HTTPClient? = nil,
        logger: Logger,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) throws {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "muster.broker"] = .string(configuration.baseURL)
        self.logger = logger
        self.sleep = sleep
        if let httpClient {
            self.client = httpClient
            self.streamClient = httpClient
            self.ownsClients = false
        } else {
            let tls = try Self.tlsConfiguration(configuration)
            let readLimit = max(configuration.timeouts.request, .seconds(BrokerProtocol.maximumWaitSeconds)) + configuration.timeouts.longPollMargin
            self.client = HTTPClient(
                eventLoopGroupProvider: .singleton,
                configuration: Self.httpConfiguration(configuration, tls: tls, read: readLimit)
            )
            self.streamClient = HTTPClient(
                eventLoopGroupProvider: .singleton,
                configuration: Self.httpConfiguration(configuration, tls: tls, read: configuration.timeouts.streamIdle)
            )
            self.ownsClients = true
        }
    }

    /// Connects to the broker at `url` with default timeouts and retry policies.
    ///
    /// - Throws: ``BrokerClientError`` with code ``BrokerClientError/Code/invalidConfiguration`` for a malformed URL.
    public convenience init(url: String, logger: Logger) throws {
        try self.init(configuration: BrokerConfiguration(url: url), logger: logger)
    }

    /// Closes the connection's own HTTP clients (not one passed in). Calls made afterwards fail with
    /// ``BrokerClientError/Code/shutDown``. Calling it again does nothing.
    public func shutdown() async throws {
        let first = shutDownState.withLock { isShutDown in
            defer { isShutDown = true }
            return !isShutDown
        }
        guard first, ownsClients else { return }
        try await client.shutdown()
        try await streamClient.shutdown()
    }

    /// A client for the operator API, speaking with `token`.
    public func operatorClient(token: String) -> OperatorClient {
        OperatorClient(connection: self, token: token)
    }

    /// A client for the agent API of one node, speaking with that node's `token`.
    public func agentClient(context: ContextID, node: String, token: String) -> AgentClient {
        AgentClient(connection: self, context: context, node: node, token: token)
    }

    /// `GET /v1/healthz`: whether the broker serves, and its version. Needs no token.
    public func health() async throws -> HealthStatus {
        try await send(BrokerCall(.GET, BrokerRoutes.health, safety: .idempotent), decoding: HealthStatus.self)
    }

    /// `GET /metrics`: the broker's metrics in the Prometheus text format. Needs no token.
    public func metrics() async throws -> String {
        let reply = try await perform(BrokerCall(.GET, BrokerRoutes.metrics, safety: .idempotent, accept: "text/plain"))
        return String(buffer: reply.body)
    }

    // MARK: Building the HTTP clients

    private static func tlsConfiguration(_ configuration: BrokerConfiguration) throws(BrokerClientError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        var trusted: [NIOSSLCertificate] = []
        if let file = configuration.tls.caCertificateFile {
            trusted += try certificates(from: "the CA certificate file \(file)") { try NIOSSLCertificate.fromPEMFile(file) }
        }
        if let pem = configuration.tls.caCertificatePEM {
            // A pinned CA (an agent's, from its userdata) is the only one trusted: a certificate for the same name
            // from any public CA is refused.
            trusted += try certificates(from: "the CA certificate PEM") { try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)) }
            tls.trustRoots = .certificates(trusted)
        } else if !trusted.isEmpty {
            tls.additionalTrustRoots = [.certificates(trusted)]
        }
        if !configuration.tls.verifyHostname { tls.certificateVerification = .noHostnameVerification }
        return tls
    }

    private static func certificates(
        from source: String,
        _ load: () throws -> [NIOSSLCertificate]
    ) throws(BrokerClientError) -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try load()
        } catch {
            throw BrokerClientError(code: .invalidConfiguration, message: "cannot read \(source): \(error)", underlying: error)
        }
        guard !certificates.isEmpty else {
            throw BrokerClientError(code: .invalidConfiguration, message: "\(source) holds no PEM certificate")
        }
        return certificates
    }

    private static func httpConfiguration(_ configuration: BrokerConfiguration, tls: TLSConfiguration, read: Duration?) -> HTTPClient.Configuration {
        var http = HTTPClient.Configuration()
        http.tlsConfiguration = tls
        // A redirect would carry the bearer token elsewhere: never follow one.
        http.redirectConfiguration = .disallow
        http.timeout = HTTPClient.Configuration.Timeout(connect: TimeAmount(configuration.timeouts.connect), read: read.map(TimeAmount.init))
        // Fail a refused connection at once; this client's own retry policy decides whether to try again.
        http.connectionPool.retryConnectionEstablishment = false
        http.decompression = .disabled
        return http
    }
}
