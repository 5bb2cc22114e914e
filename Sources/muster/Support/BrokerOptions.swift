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

    /// The broker URL, or an error that says every place that was tried.
    func url() throws -> String {
        if let broker { return broker }
        if let environment = ProcessInfo.processInfo.environment["MUSTER_BROKER"], !environment.isEmpty { return environment }
        if let local = LocalBrokerFile.read(from: state) { return local.url }
        throw ValidationError(
            "no broker: pass --broker URL, set MUSTER_BROKER, or run this where a broker's state folder is (\(state)/broker.json)"
        )
    }

    /// The operator token, or an error that says every place that was tried.
    func token() throws -> String {
        if let tokenFile { return try OperatorToken.read(tokenFile) }
        if let environment = ProcessInfo.processInfo.environment["MUSTER_TOKEN"], !environment.isEmpty { return environment }
        let path = (state as NSString).appendingPathComponent("operator-token")
        if FileManager.default.fileExists(atPath: path) { return try OperatorToken.read(path) }
        throw ValidationError("no operator token: pass --token-file FILE, set MUSTER_TOKEN, or run this next to \(path)")
    }

    /// A connection and operator client for the broker.
    func connect(logger: Logger) throws -> (BrokerConnection, OperatorClient) {
        var configuration = try BrokerConfiguration(url: url())
        if let caCert { configuration.tls.caCertificateFile = caCert }
        let connection = try BrokerConnection(configuration: configuration, logger: logger)
        return (connection, connection.operatorClient(token: try token()))
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

/// Runs a command body with a broker connection that is always shut down, and turns client errors into a
/// one-line message and a non-zero exit.
enum WithBroker {
    static func run<T>(_ options: BrokerOptions, verbose: Bool = false, _ body: (OperatorClient) async throws -> T) async throws -> T {
        let (connection, client) = try options.connect(logger: CommandLogger.make("muster.cli", verbose: verbose))
        do {
            let result = try await body(client)
            try? await connection.shutdown()
            return result
        } catch let error as BrokerClientError {
            try? await connection.shutdown()
            Output.error("error: \(error.message)")
            for diagnostic in error.diagnostics { Output.error(diagnostic.formatted(file: "document")) }
            throw ExitCode(error.code == .notFound ? 66 : 1)
        } catch {
            try? await connection.shutdown()
            throw error
        }
    }
}

/// Names a node: `CONTEXT/NODE`, or `NODE` with `--context`, or `NODE` alone when the broker has one live context.
struct NodeReference {
    var context: ContextID
    var node: String

    static func resolve(_ text: String, context: String?, client: OperatorClient) async throws -> NodeReference {
        if let slash = text.firstIndex(of: "/") {
            return NodeReference(context: ContextID(String(text[..<slash])), node: String(text[text.index(after: slash)...]))
        }
        if let context { return NodeReference(context: ContextID(context), node: text) }
        return NodeReference(context: try await ContextReference.resolve(nil, client: client), node: text)
    }
}

/// Names a context: as given, or the only live (not terminated) context on the broker.
enum ContextReference {
    static func resolve(_ given: String?, client: OperatorClient) async throws -> ContextID {
        if let given { return ContextID(given) }
        let contexts = try await client.contexts()
        let live = contexts.filter { !$0.status.terminated }
        if live.count == 1 { return live[0].id }
        if live.isEmpty && contexts.count == 1 { return contexts[0].id }
        let names = live.map(\.id.rawValue).joined(separator: ", ")
        throw ValidationError(
            live.isEmpty ? "the broker has no context" : "the broker has several contexts (\(names)); name one with --context or CONTEXT/NODE"
        )
    }
}
