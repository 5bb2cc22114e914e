import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import MusterCore
import NIOCore
import NIOSSL
import ServiceLifecycle

/// The broker as a service: its state, and the HTTP server in front of it.
///
/// Run it under a `ServiceGroup`; a graceful shutdown (SIGINT/SIGTERM in the CLI) stops accepting requests,
/// closes event streams, answers waiting long-polls, lets in-flight requests finish, and stops the launcher's
/// nodes. Every change is already on disk when it is answered, so nothing is lost.
///
/// ```swift
/// let server = try await BrokerServer(configuration: .init(port: 0, stateDirectory: "/tmp/b"), logger: logger)
/// let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
public final class BrokerServer: Service, Sendable {
    /// The broker's state.
    public let state: BrokerState
    /// The store behind it.
    public let store: any BrokerStore
    /// The metrics `/metrics` serves.
    public let metrics: BrokerMetrics
    /// The configuration.
    public let configuration: BrokerServerConfiguration
    /// The operator token minted at this start (first start without a given token), to show once.
    public let mintedOperatorToken: String?
    private let launcher: (any NodeLauncher)?
    private let logger: Logger
    private let onListening: @Sendable (URL) async -> Void

    /// Opens (or creates) the broker's state and prepares the server.
    ///
    /// - Parameters:
    ///   - launcher: starts and stops nodes when the engine asks; `nil` leaves launching to someone else.
    ///   - onListening: called with the broker's URL once it accepts connections (the real port when 0 was given).
    public init(
        configuration: BrokerServerConfiguration,
        launcher: (any NodeLauncher)? = nil,
        logger: Logger,
        onListening: @escaping @Sendable (URL) async -> Void = { _ in }
    ) async throws {
        let store: any BrokerStore
        if let path = configuration.databasePath {
            store = try SQLiteStore(path: path)
        } else {
            store = MemoryStore()
        }
        let state = try BrokerState(store: store, launcher: launcher, logger: logger)
        var minted: String?
        if let token = configuration.operatorToken {
            try await state.setOperatorToken(token)
        } else if await !state.hasOperatorToken {
            let token = Token.mint(prefix: Token.operatorPrefix)
            if let path = configuration.operatorTokenPath {
                try Self.writeSecret(token + "\n", to: path)
            }
            try await state.setOperatorToken(token)
            minted = token
        }
        self.state = state
        self.store = store
        self.metrics = BrokerMetrics()
        self.configuration = configuration
        self.mintedOperatorToken = minted
        self.launcher = launcher
        self.logger = logger
        self.onListening = onListening
    }

    /// Writes a file readable by its owner only.
    static func writeSecret(_ text: String, to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    public func run() async throws {
        let router = BrokerRouter(
            state: state,
            store: store,
            metrics: metrics,
            longPollSeconds: configuration.longPollSeconds,
            heartbeat: configuration.heartbeat,
            agentDownload: configuration.agentDownload
        )
        let scheme = configuration.tls == nil ? "http" : "https"
        let server: HTTPServerBuilder
        if let tls = configuration.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            server = try .tls(
                .http1(),
                tlsConfiguration: TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            )
        } else {
            server = .http1()
        }
        let state = state
        let launcher = launcher
        let onListening = onListening
        let logger = logger
        let host = configuration.host
        let app = Application(
            router: router.make(),
            server: server,
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "muster-broker"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let urlHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : (host.contains(":") ? "[\(host)]" : host)
                let url = URL(string: "\(scheme)://\(urlHost):\(port)")!
                await state.attach(launcher: launcher, brokerURL: url.absoluteString)
                logger.info("broker listening", metadata: ["url": "\(url.absoluteString)"])
                await onListening(url)
            },
            logger: logger
        )
        try await withGracefulShutdownHandler {
            try await app.run()
        } onGracefulShutdown: {
            Task { await state.shutdown() }
        }
        await launcher?.stopAll()
    }
}
