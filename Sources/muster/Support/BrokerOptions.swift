import ArgumentParser
import Foundation
import Logging
import MusterClient
import MusterCore

/// How a command finds its broker and operator token: flags, then `MUSTER_BROKER`/`MUSTER_TOKEN`, then the local
/// state folder (`broker.json` and `operator-token`, written by `muster broker` and `muster up`), so that on one
/// machine it just works.
struct BrokerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The broker's URL (default: $MUSTER_BROKER, then <state>/broker.json).", valueName: "url"))
    var broker: String?

    @Option(help: ArgumentHelp("Read the operator token from this file (default: $MUSTER_TOKEN, then <state>/operator-token).", valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("The local state folder to look in.", valueName: "dir"))
    var state = ".muster"

    @Option(help: ArgumentHelp("A PEM CA certificate to trust (a broker with a self-signed certificate).", valueName: "file"))
    var caCert: String?

    /// The state folder, absolute.
    var stateFolder: String { LocalPath.absolute(state) }

    /// The CA certificate of a broker on this state folder that made its own (see ``BrokerExposure``).
    var localCA: String { ((stateFolder as NSString).appendingPathComponent("tls") as NSString).appendingPathComponent("ca-cert.pem") }

    /// The broker URL, or a failure that says every place that was tried.
    func url() throws(CommandFailure) -> String {
        if let broker { return broker }
        if let environment = ProcessInfo.processInfo.environment["MUSTER_BROKER"], !environment.isEmpty { return environment }
        if let local = LocalBrokerFile.read(from: stateFolder) { return local.url }
        throw CommandFailure(
            ExitCodes.unavailable,
            "no broker: pass --broker URL, set MUSTER_BROKER, or run this where a broker's state folder is "
                + "(\(LocalPath.display(LocalBrokerFile.path(in: stateFolder))) does not exist)"
        )
    }

    /// The operator token, or a failure that says every place that was tried.
    func token() throws(CommandFailure) -> String {
        if let tokenFile { return try OperatorToken.read(tokenFile) }
        if let environment = ProcessInfo.processInfo.environment["MUSTER_TOKEN"], !environment.isEmpty { return environment }
        let path = (stateFolder as NSString).appendingPathComponent("operator-token")
        if FileManager.default.fileExists(atPath: path) { return try OperatorToken.read(path) }
        throw CommandFailure(
            ExitCodes.refused,
            "no operator token: pass --token-file FILE, set MUSTER_TOKEN, or run this next to \(LocalPath.display(path))"
        )
    }

    /// A connection and operator client for the broker. Everything that can fail is read before the connection
    /// is made, so that a failure never leaves a connection behind.
    func connect(logger: Logger) throws -> (BrokerConnection, OperatorClient) {
        let url = try url()
        let token = try token()
        var configuration = try BrokerConfiguration(url: url)
        if let caCert {
            guard FileManager.default.isReadableFile(atPath: caCert) else {
                throw CommandFailure(ExitCodes.configuration, "cannot read the CA certificate \(caCert)")
            }
            configuration.tls.caCertificateFile = LocalPath.absolute(caCert)
        } else if configuration.usesTLS, FileManager.default.isReadableFile(atPath: localCA) {
            // A broker of this state folder with its own certificate authority: trust that, and only that.
            configuration.tls.caCertificateFile = localCA
        }
        let connection = try BrokerConnection(configuration: configuration, logger: logger)
        return (connection, connection.operatorClient(token: token))
    }
}

/// A logger for commands: warnings and worse to standard error, unless `--verbose`.
enum CommandLogger {
    static func make(_ label: String, verbose: Bool = false) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }
}

/// Runs a command body with a broker connection that is always shut down; whatever fails is reported as one
/// line and an exit status (see ``CommandFailure``).
enum WithBroker {
    static func run<T>(_ options: BrokerOptions, verbose: Bool = false, _ body: (OperatorClient) async throws -> T) async throws -> T {
        try await CommandFailure.reporting { try await quietly(options, verbose: verbose, body) }
    }
}

extension WithBroker {
    /// Runs a body with a broker connection that is always shut down, letting its errors through unreported (for
    /// a command that can go on without the broker).
    static func quietly<T>(_ options: BrokerOptions, verbose: Bool = false, _ body: (OperatorClient) async throws -> T) async throws -> T {
        let (connection, client) = try options.connect(logger: CommandLogger.make("muster.cli", verbose: verbose))
        do {
            let result = try await body(client)
            try? await connection.shutdown()
            return result
        } catch {
            try? await connection.shutdown()
            throw error
        }
    }
}

/// How every command names a context: `--context ID` (or, for commands about one context, the argument).
struct ContextOption: ParsableArguments {
    @Option(
        help: ArgumentHelp("The context (default: the broker's only live context).", valueName: "id"),
        completion: .custom(Completion.contexts)
    )
    var context: String?
}

/// Names a node: `CONTEXT/NODE`, or `NODE` with `--context`, or `NODE` alone when the broker has one live context.
struct NodeReference {
    var context: ContextID
    var node: String

    static func resolve(_ text: String, context: String?, client: OperatorClient) async throws -> NodeReference {
        if let slash = text.firstIndex(of: "/") {
            let given = String(text[..<slash])
            if let context, context != given {
                throw CommandFailure(ExitCodes.usage, "\(text) names context \(given), but --context says \(context)")
            }
            return NodeReference(context: ContextID(given), node: String(text[text.index(after: slash)...]))
        }
        if let context { return NodeReference(context: ContextID(context), node: text) }
        return NodeReference(context: try await ContextReference.resolve(nil, client: client), node: text)
    }

    var description: String { "\(context)/\(node)" }
}

/// Names a context: as given, or the only live (not terminated) context on the broker.
enum ContextReference {
    static func resolve(_ given: String?, client: OperatorClient) async throws -> ContextID {
        if let given { return ContextID(given) }
        let contexts = try await client.contexts()
        let live = contexts.filter { !$0.status.terminated }
        if live.count == 1 { return live[0].id }
        if live.isEmpty && contexts.count == 1 { return contexts[0].id }
        if contexts.isEmpty { throw CommandFailure(ExitCodes.notFound, "the broker has no context") }
        let names = (live.isEmpty ? contexts : live).map(\.id.rawValue).joined(separator: ", ")
        throw CommandFailure(
            ExitCodes.usage,
            "the broker has several \(live.isEmpty ? "" : "live ")contexts (\(names)); name one with --context ID or CONTEXT/NODE"
        )
    }
}
