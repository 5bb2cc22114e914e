import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import MusterCore
import MusterSystem
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
    /// One broker per state folder, for as long as this server lives.
    private let lock: FolderLock?
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
        var lock: FolderLock?
        if let folder = configuration.stateDirectory {
            do {
                lock = try FolderLock(folder: folder, name: "broker.lock")
            } catch {
                throw BrokerServerError(
                    error.isHeld ? .stateInUse : .state,
                    error.isHeld
                        ? "another broker uses the state folder \(folder) (it holds \(error.path)); stop it, or give this one its own folder"
                        : "cannot use the state folder \(folder): \(error.reason)"
                )
            }
        }
        if let tls = configuration.tls {
            for (what, path) in [("certificate", tls.certificate), ("private key", tls.key)] where !FileManager.default.isReadableFile(atPath: path) {
                let reason = FileManager.default.fileExists(atPath: path) ? "it is not readable" : "no such file"
                throw BrokerServerError(.tls, "cannot read the TLS \(what) \(path): \(reason)")
            }
        }
        let metrics = BrokerMetrics()
        let opened: any BrokerStore
        if let url = configuration.storeURL {
            do {
                opened = try await PostgresStore.open(url, standby: configuration.standby, logger: logger)
            } catch {
                throw BrokerServerError(error.inUse ? .stateInUse : .storeUnreachable, error.message)
            }
        } else if let path = configuration.databasePath {
            opened = try SQLiteStore(path: path, logger: logger)
        } else {
            opened = MemoryStore()
        }
        let store = MeasuredStore(inner: opened, metrics: metrics)
        let state: BrokerState
        do {
            state = try await BrokerState(store: store, launcher: launcher, limits: configuration.limits, logger: logger)
        } catch {
            await store.close()
            throw error
        }
        var minted: String?
        if let token = configuration.operatorToken {
            try await state.setOperatorToken(token)
        } else if await !state.hasOperatorToken {
            let token = Token.mint(prefix: Token.operatorPrefix)
            if let path = configuration.operatorTokenPath {
                try AtomicFile.writeSecret(token + "\n", to: path)
            }
            try await state.setOperatorToken(token)
            minted = token
        }
        self.state = state
        self.lock = lock
        self.store = store
        self.metrics = metrics
        self.configuration = configuration
        self.mintedOperatorToken = minted
        self.launcher = launcher
        self.logger = logger
        self.onListening = onListening
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
        for line in configuration.agentDownload?.descriptions ?? [] { logger.info("\(line)") }
        for warning in configuration.agentDownload?.warnings ?? [] { logger.warning("\(warning)") }
        let scheme = configuration.tls == nil ? "http" : "https"
        let http1 = connectionConfiguration()
        let server: HTTPServerBuilder
        if let tls = configuration.tls {
            let chain: [NIOSSLCertificateSource]
            let key: NIOSSLPrivateKey
            do {
                chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
            } catch {
                throw BrokerServerError(.tls, "cannot load the TLS certificate \(tls.certificate): \(error) (a PEM certificate chain is expected)")
            }
            do {
                key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            } catch {
                throw BrokerServerError(.tls, "cannot load the TLS private key \(tls.key): \(error) (an unencrypted PEM key is expected)")
            }
            do {
                server = try .tls(
                    .http1(configuration: http1),
                    tlsConfiguration: TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
                )
            } catch {
                throw BrokerServerError(.tls, "cannot use the TLS certificate \(tls.certificate) with the key \(tls.key): \(error)")
            }
        } else {
            server = .http1(configuration: http1)
        }
        let state = state
        let launcher = launcher
        let onListening = onListening
        let logger = logger
        let host = configuration.host
        let (advertisedURL, advertisedHost, localHost) = (configuration.advertisedURL, configuration.advertisedHost, configuration.localHost)
        let replicaName = configuration.replicaName
        let gate = RoutingGate(limit: configuration.limits.maxRouting)
        metrics.watch(gate)
        let app = Application(
            responder: BrokerResponder(router: router.make().buildResponder(), state: state, answers: router.answers, metrics: metrics, gate: gate),
            server: server,
            configuration: .init(
                address: .hostname(host, port: configuration.port),
                serverName: "muster-broker",
                backlog: configuration.limits.listenBacklog
            ),
            onServerRunning: { channel in
                // The listening socket must never outlive the broker in a child process.
                CloseOnExec.markInternetSockets()
                let port = channel.localAddress?.port ?? 0
                let shown = advertisedHost ?? (host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host)
                let urlHost = shown.contains(":") ? "[\(shown)]" : shown
                let url = BrokerServerConfiguration.advertised(advertisedURL, port: port) ?? URL(string: "\(scheme)://\(urlHost):\(port)")!
                await state.attach(
                    launcher: launcher,
                    brokerURL: url.absoluteString,
                    replicaName: replicaName ?? "\(ProcessInfo.processInfo.hostName):\(port)"
                )
                await state.startDeadlines()
                await state.startFollowing()
                let local = localHost.flatMap { URL(string: "\(scheme)://\($0.contains(":") ? "[\($0)]" : $0):\(port)") } ?? url
                logger.info("broker listening", metadata: ["url": "\(local.absoluteString)", "nodes": "\(url.absoluteString)"])
                await onListening(local)
            },
            logger: logger
        )
        do {
            try await withGracefulShutdownHandler {
                try await app.run()
            } onGracefulShutdown: {
                Task { await state.shutdown() }
            }
        } catch let error as IOError {
            await stopped()
            throw Self.listenError(error, host: host, port: configuration.port)
        } catch {
            await stopped()
            throw error
        }
        await stopped()
    }

    /// The HTTP/1 channel with the connection limits: idle and header timeouts, and the connection cap (fitted
    /// to the open-files limit, raised to its hard limit first).
    private func connectionConfiguration() -> HTTP1Channel.Configuration {
        let limits = configuration.limits
        let openFiles = OpenFilesLimit.raiseToHardLimit()
        let maxConnections = OpenFilesLimit.connections(within: openFiles, wanted: limits.maxConnections)
        if maxConnections < limits.maxConnections {
            logger.notice(
                "fewer connections than configured: the open-files limit allows \(maxConnections)",
                metadata: ["open-files": "\(openFiles ?? 0)", "max-connections": "\(limits.maxConnections)"]
            )
        }
        let limiter = ConnectionLimiter(maxConnections: maxConnections)
        metrics.watch(limiter)
        let headerTimeout = TimeAmount(limits.headerTimeout)
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(limiter: limiter, headerTimeout: headerTimeout)],
            idleTimeout: TimeAmount(limits.idleTimeout)
        )
    }

    /// After the server stopped: the nodes stop, and the state folder is free for another broker.
    private func stopped() async {
        await launcher?.stopAll()
        await store.close()
        lock?.unlock()
    }

    /// The error for a socket failure while starting to listen, naming the address and what to do.
    private static func listenError(_ error: IOError, host: String, port: Int) -> any Error {
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        switch error.errnoCode {
        case EADDRINUSE:
            return BrokerServerError(
                .cannotListen,
                "cannot listen on \(address): the address is in use (another broker?); choose another with --listen HOST:PORT, or port 0 for a free one"
            )
        case EADDRNOTAVAIL:
            return BrokerServerError(.cannotListen, "cannot listen on \(address): that address is not one of this machine's")
        case EACCES:
            return BrokerServerError(.cannotListen, "cannot listen on \(address): permission denied (ports below 1024 need privileges)")
        default:
            return error
        }
    }
}
