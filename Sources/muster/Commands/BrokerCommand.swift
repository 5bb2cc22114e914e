import ArgumentParser
import Foundation
import Logging
import MusterBroker
import MusterCore
import ServiceLifecycle
import Synchronization
import UnixSignals

struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a context broker: the HTTP service nodes check in with and operators steer.",
        discussion: """
            The broker keeps its state in DIR/state.sqlite (every context, node, token hash, output line and \
            event survives a restart, even kill -9) and writes DIR/broker.json so that `muster status`, \
            `muster events` and the console on this machine find it without flags.

            The operator token: --token-file, else $MUSTER_TOKEN, else the one set at first start. At first \
            start without one, a token is generated, written to DIR/operator-token (mode 0600) and printed once.

            SIGINT or SIGTERM stop it gracefully: in-flight requests finish, streams close, state is on disk.

            With --store postgres://… the state is kept in PostgreSQL instead (the URL's password is never \
            shown). Several brokers may serve one database at once (replicas, all active, behind a load \
            balancer or none): each follows the others' changes. Clients reach them with \
            --broker URL_A,URL_B. A broker started with --standby waits until no other serves the database.

            Examples:
              muster broker                                   listen on 127.0.0.1:7077
              muster broker --listen 127.0.0.1:0              pick a free port (printed)
              muster broker --listen 0.0.0.0:7077 \\
                --advertise https://broker.example.org:7077  TLS with its own CA
              muster broker --tls-cert cert.pem --tls-key key.pem

            Beyond loopback TLS is on by default: with no --tls-cert the broker makes its own certificate \
            authority in DIR/tls/ and a server certificate for the --advertise name or address; agents it \
            launches (and `muster` commands on this state folder) trust that CA and nothing else. Plain HTTP \
            there needs --insecure-http.

            Cloud nodes whose image lacks muster-agent download it from GET /v1/agent/linux/ARCH: \
            --agent-binary, else muster-agent-linux-ARCH beside muster, else muster-agent (the one that needs no \
            Swift runtime is preferred). The log names the file served, /v1/healthz lists it, and an agent \
            linked dynamically against the Swift runtime (an ordinary build) is served with a warning: build \
            it with --static-swift-stdlib (the README's EC2 section has the command).
            """
    )

    @Option(help: ArgumentHelp("Address to listen on, HOST:PORT; port 0 picks a free one.", valueName: "host:port"))
    var listen = ListenAddress(host: "127.0.0.1", port: 7077)

    @Option(help: ArgumentHelp("Folder for the broker's state, operator token and broker.json.", valueName: "dir"))
    var state = ".muster"

    @Option(
        help: ArgumentHelp(
            "Keep the state in PostgreSQL instead of DIR/state.sqlite (also $MUSTER_STORE). The URL's password is never shown.",
            valueName: "postgres://user:pass@host:port/db?sslmode=verify-full"
        )
    )
    var store: String?

    @Flag(
        help: "With --store: wait until no other broker serves the database, then serve (a standby), instead of serving alongside."
    )
    var standby = false

    @Option(
        help: ArgumentHelp(
            "This broker's name among replicas, shown by muster status and the console (default: HOST:PORT).",
            valueName: "name"
        )
    )
    var name: String?

    @Option(help: ArgumentHelp("Read the operator token from this file (otherwise $MUSTER_TOKEN, then the stored one).", valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("The URL nodes reach the broker at, when it is not the one it listens on.", valueName: "url"))
    var advertise: String?

    @Flag(help: "Serve plain HTTP beyond loopback (tokens and secrets cross the network in clear).")
    var insecureHTTP = false

    @Option(help: ArgumentHelp("PEM certificate chain to serve HTTPS (with --tls-key).", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM private key for --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("Longest time an agent's long-poll is held, in seconds.", valueName: "seconds"))
    var longPoll = 30

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: Logger.Level = .info

    @OptionGroup(title: "Limits") var limits: BrokerLimitOptions

    @OptionGroup var agentBinary: AgentBinaryOptions

    /// The PostgreSQL store a `--store` (or `$MUSTER_STORE`) names, if any; an empty value means none.
    static func storeURL(_ text: String?) throws -> PostgresStoreURL? {
        guard let text, !text.isEmpty else { return nil }
        guard PostgresStoreURL.isPostgres(text) else {
            throw CommandFailure(
                ExitCodes.configuration,
                "--store expects a PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE); without it the state is DIR/state.sqlite"
            )
        }
        do {
            return try PostgresStoreURL(text)
        } catch {
            throw CommandFailure(ExitCodes.configuration, "--store: \(error.message)")
        }
    }

    func validate() throws {
        if standby && store == nil && ProcessInfo.processInfo.environment["MUSTER_STORE"] == nil {
            throw ValidationError("--standby needs --store (or $MUSTER_STORE): only a PostgreSQL state can be shared")
        }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if !(1...300).contains(longPoll) { throw ValidationError("--long-poll must be between 1 and 300 seconds") }
    }

    func run() async throws {
        try await CommandFailure.reporting {
            let logger = {
                var logger = Logger(label: "muster.broker")
                logger.logLevel = logLevel
                return logger
            }()
            let token = try OperatorToken.given(tokenFile: tokenFile)
            let stateFolder = LocalPath.absolute(state)
            let exposure = try BrokerExposure.decide(
                listenHost: listen.host,
                listenPort: listen.port,
                advertise: advertise,
                tlsCert: tlsCert,
                tlsKey: tlsKey,
                insecureHTTP: insecureHTTP,
                state: stateFolder
            )
            if let warning = exposure.warning { Output.error(warning) }
            let storeURL = try Self.storeURL(store ?? ProcessInfo.processInfo.environment["MUSTER_STORE"])
            var configuration = BrokerServerConfiguration(
                host: listen.host,
                port: listen.port,
                stateDirectory: stateFolder,
                operatorToken: token,
                longPollSeconds: longPoll
            ).limited(by: limits)
            exposure.apply(to: &configuration)
            configuration.storeURL = storeURL
            configuration.standby = standby
            configuration.replicaName = name
            if standby, let storeURL { Output.line("muster broker standby: waiting to serve \(storeURL.redacted) once no other broker does") }
            let stateShown = storeURL.map { "state in \($0.redacted)" } ?? "state in \(LocalPath.display(stateFolder))"
            // Which files GET /v1/agent/linux/{arch} serves, and whether a stock image could start them, is
            // logged when the broker starts and shown by /v1/healthz.
            configuration.agentDownload = try agentBinary.download()
            let tokenPath = LocalPath.display(configuration.operatorTokenPath ?? "?")
            let minted = Mutex<String?>(nil)
            let advertised = configuration.advertisedURL
            let server = try await BrokerServer.starting(configuration: configuration, logger: logger) { url in
                do {
                    try LocalBrokerFile(url: url.absoluteString, pid: getpid()).write(to: stateFolder)
                } catch {
                    logger.warning("could not write broker.json", metadata: ["error": "\(error)"])
                }
                Output.line("muster broker listening on \(url.absoluteString) (\(stateShown))")
                if let nodes = BrokerServerConfiguration.advertised(advertised, port: url.port ?? 0), nodes != url {
                    Output.line("nodes reach it at \(nodes.absoluteString)")
                }
                // Shown only once the broker listens: a broker that cannot start shows no token it never served.
                if let token = minted.withLock({ $0 }) {
                    Output.line("operator token (shown once; saved to \(tokenPath)):\n  \(token)")
                }
            }
            minted.withLock { $0 = server.mintedOperatorToken }
            let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            defer { LocalBrokerFile.removeOwn(from: stateFolder) }
            do {
                try await BrokerServer.reportingStartFailures { try await group.run() }
            } catch let failure as CommandFailure where server.mintedOperatorToken != nil {
                let path = LocalPath.display(configuration.operatorTokenPath ?? "?")
                throw CommandFailure(
                    failure.status,
                    failure.message + "\n(the new operator token was saved to \(path); it works once a broker starts on this state)"
                )
            }
            Output.line("muster broker stopped")
        }
    }
}

extension BrokerServer {
    /// Opens a broker's state, turning a start failure into a one-line ``CommandFailure``.
    static func starting(
        configuration: BrokerServerConfiguration,
        launcher: (any NodeLauncher)? = nil,
        logger: Logger,
        onListening: @escaping @Sendable (URL) async -> Void
    ) async throws -> BrokerServer {
        try await reportingStartFailures {
            try await BrokerServer(configuration: configuration, launcher: launcher, logger: logger, onListening: onListening)
        }
    }

    /// Runs `body`, turning the broker's start failures (state folder in use, address taken, TLS files) into
    /// ``CommandFailure``s with their exit status.
    static func reportingStartFailures<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as BrokerServerError {
            let status =
                switch error.code {
                case .stateInUse: ExitCodes.conflict
                case .cannotListen, .storeUnreachable: ExitCodes.unavailable
                case .tls: ExitCodes.configuration
                default: ExitCodes.cannotCreate
                }
            throw CommandFailure(status, error.message)
        } catch let error as StoreError {
            throw CommandFailure(ExitCodes.cannotCreate, "cannot open the broker's state: \(error.message)")
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
