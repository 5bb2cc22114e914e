import AsyncHTTPClient
import Foundation
import Logging
import MusterBroker
import MusterCore
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import Testing

/// A real broker on a real socket (port 0), for one test: started in the background, stopped gracefully.
final class TestBroker: Sendable {
    let server: BrokerServer
    let url: URL
    let operatorToken: String
    let logs: LogCapture
    private let group: ServiceGroup
    private let runner: Task<Void, any Error>
    let http: HTTPClient

    /// Starts a broker; `stateDirectory` nil keeps state in memory.
    static func start(
        stateDirectory: String? = nil,
        operatorToken: String? = "mst_op_test-operator-token",
        longPollSeconds: Int = 30,
        heartbeat: Duration = .seconds(15),
        tls: BrokerServerConfiguration.TLSFiles? = nil,
        launcher: (any NodeLauncher)? = nil,
        agentDownload: AgentDownload? = nil,
        limits: BrokerLimits = BrokerLimits(),
        storeURL: PostgresStoreURL? = nil,
        http: HTTPClient = .shared
    ) async throws -> TestBroker {
        let logs = LogCapture()
        let logger = Logger(label: "test-broker") { _ in logs.handler() }
        let (urls, continuation) = AsyncStream.makeStream(of: URL.self)
        var configuration = BrokerServerConfiguration(
            host: "127.0.0.1",
            port: 0,
            stateDirectory: stateDirectory,
            operatorToken: operatorToken,
            tls: tls,
            longPollSeconds: longPollSeconds,
            heartbeat: heartbeat
        )
        configuration.agentDownload = agentDownload
        configuration.limits = limits
        configuration.storeURL = storeURL
        let server = try await BrokerServer(configuration: configuration, launcher: launcher, logger: logger) { url in
            continuation.yield(url)
            continuation.finish()
        }
        let group = ServiceGroup(services: [server], logger: logger)
        let runner = Task { try await group.run() }
        var iterator = urls.makeAsyncIterator()
        guard let url = await iterator.next() else { throw TestFailure("the broker did not start") }
        return TestBroker(
            server: server,
            url: url,
            operatorToken: operatorToken ?? server.mintedOperatorToken ?? "",
            logs: logs,
            group: group,
            runner: runner,
            http: http
        )
    }

    private init(
        server: BrokerServer,
        url: URL,
        operatorToken: String,
        logs: LogCapture,
        group: ServiceGroup,
        runner: Task<Void, any Error>,
        http: HTTPClient
    ) {
        self.server = server
        self.url = url
        self.operatorToken = operatorToken
        self.logs = logs
        self.group = group
        self.runner = runner
        self.http = http
    }

    /// Stops the broker gracefully and waits until it has.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await runner.value
    }

    // MARK: Raw HTTP

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try WireFormat.decoder().decode(T.self, from: body) }

        var error: APIErrorBody.Detail? { try? decode(APIErrorBody.self).error }

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    enum Auth {
        case none
        case operatorToken
        case token(String)
    }

    func request(
        _ method: HTTPMethod,
        _ path: String,
        auth: Auth = .operatorToken,
        body: Data? = nil,
        headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(60)
    ) async throws -> Reply {
        let request = makeRequest(method, path, auth: auth, body: body, headers: headers)
        let response = try await http.execute(request, timeout: timeout)
        let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer.readableBytesView))
    }

    /// A request to the broker with the given token and headers.
    private func makeRequest(_ method: HTTPMethod, _ path: String, auth: Auth, body: Data?, headers: [(String, String)]) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url.absoluteString + path)
        request.method = method
        switch auth {
        case .none: break
        case .operatorToken: request.headers.add(name: "Authorization", value: "Bearer \(operatorToken)")
        case .token(let token): request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        return request
    }

    func json<T: Encodable>(_ value: T) throws -> Data { try WireFormat.encoder().encode(value) }

    /// The broker's port.
    var port: Int { url.port ?? 0 }

    /// Sends a request and returns its status and headers only: the body is never read (an event stream's
    /// body never ends), and the connection is dropped.
    func status(
        _ method: HTTPMethod,
        _ path: String,
        auth: Auth = .operatorToken,
        body: Data? = nil,
        headers: [(String, String)] = []
    ) async throws
        -> (status: Int, contentType: String?, body: Data?)
    {
        let request = makeRequest(method, path, auth: auth, body: body, headers: headers)
        let response = try await http.execute(request, timeout: .seconds(60))
        let contentType = response.headers.first(name: "Content-Type")
        if contentType?.hasPrefix("text/event-stream") == true { return (Int(response.status.code), contentType, nil) }
        let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return (Int(response.status.code), contentType, Data(buffer.readableBytesView))
    }

    /// Whether `/v1/healthz` answers 200.
    func isHealthy() async -> Bool {
        (try? await request(.GET, BrokerRoutes.health, auth: .none, timeout: .seconds(10)).status) == 200
    }

    // MARK: Conveniences

    /// Creates a context from XML; fails the test unless it is created.
    func create(_ xml: String, name: String = "test", launch: Bool = false) async throws -> CreatedContext {
        let reply = try await request(.POST, "/v1/contexts?name=\(name)&launch=\(launch)", body: Data(xml.utf8))
        try #require(reply.status == 201, "create: \(reply.status) \(reply.text)")
        return try reply.decode(CreatedContext.self)
    }

    /// The identity a test node checks in with.
    static func identity(_ node: String, index: Int, interface: String = "publicnic") -> Identity {
        Identity(
            interface: interface,
            ip: "127.0.1.\(index + 1)",
            hostname: "\(node).test.muster.local",
            pubkey: key(index, comment: "root@\(node)")
        )
    }

    /// A well-formed Ed25519 host key line, distinct per `seed` (made-up key bytes: the broker checks the form).
    static func key(_ seed: Int, comment: String? = nil) -> String {
        SSHPublicKey(ed25519: (0..<32).map { UInt8(truncatingIfNeeded: seed &* 131 &+ $0 &* 7 &+ 1) }, comment: comment).line
    }

    func checkIn(_ context: ContextID, _ credential: NodeCredential, index: Int) async throws -> Reply {
        try await request(
            .POST,
            BrokerRoutes.checkIn(context, credential.node),
            auth: .token(credential.token),
            body: try json(CheckInRequest(identities: [Self.identity(credential.node, index: index)]))
        )
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Collects every log message and its metadata, to check that secrets never reach the logs.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    func handler() -> some LogHandler { CapturingHandler(capture: self) }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var all: [String] { lines.withLock { $0 } }

    private struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append("\(event.level) \(event.message) \(merged)")
        }
    }
}
