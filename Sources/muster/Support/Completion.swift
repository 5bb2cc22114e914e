import ArgumentParser
import Foundation
import Logging
import MusterClient
import MusterCore

/// Shell completion of context and node names: the completion script calls `muster` back while the user presses
/// Tab, and these ask the broker the command line points at (its `--broker`, `--state`, `--token-file`,
/// `--ca-cert`, or the defaults). An unreachable broker completes nothing, quickly.
enum Completion {
    /// Context ids on the broker that start with `prefix`.
    @Sendable static func contexts(_ words: [String], _ index: Int, _ prefix: String) async -> [String] {
        guard let client = await client(words) else { return [] }
        defer { Task { try? await client.connection.shutdown() } }
        let contexts = (try? await client.operator.contexts()) ?? []
        return contexts.map(\.id.rawValue).filter { $0.hasPrefix(prefix) }
    }

    /// Node names: `CONTEXT/NODE` when the word has a slash or the broker has several live contexts, else `NODE`
    /// of the context named by `--context` or of the only live one.
    @Sendable static func nodes(_ words: [String], _ index: Int, _ prefix: String) async -> [String] {
        guard let client = await client(words) else { return [] }
        defer { Task { try? await client.connection.shutdown() } }
        let given = value(of: "--context", in: words)
        if let slash = prefix.firstIndex(of: "/") {
            let context = ContextID(String(prefix[..<slash]))
            let nodes = (try? await client.operator.context(context))?.context.nodes.map(\.name) ?? []
            return nodes.map { "\(context)/\($0)" }.filter { $0.hasPrefix(prefix) }
        }
        let contexts = (try? await client.operator.contexts()) ?? []
        let live = contexts.filter { !$0.status.terminated }
        guard let context = given.map({ ContextID($0) }) ?? (live.count == 1 ? live[0].id : nil) else {
            return contexts.map { "\($0.id)/" }.filter { $0.hasPrefix(prefix) }
        }
        let nodes = (try? await client.operator.context(context))?.context.nodes.map(\.name) ?? []
        return nodes.filter { $0.hasPrefix(prefix) }
    }

    private struct Client {
        var connection: BrokerConnection
        var `operator`: OperatorClient
    }

    /// A client for the broker the command line names, with short timeouts.
    private static func client(_ words: [String]) async -> Client? {
        var arguments: [String] = []
        for flag in ["--broker", "--state", "--token-file", "--ca-cert"] {
            if let value = value(of: flag, in: words) { arguments += [flag, value] }
        }
        guard let options = try? BrokerOptions.parse(arguments), let url = try? options.url(), let token = try? options.token(),
            var configuration = try? BrokerConfiguration(url: url)
        else { return nil }
        configuration.timeouts.connect = .seconds(1)
        configuration.timeouts.request = .seconds(2)
        if let caCert = options.caCert { configuration.tls.caCertificateFile = LocalPath.absolute(caCert) }
        var logger = Logger(label: "muster.completion")
        logger.logLevel = .critical
        guard let connection = try? BrokerConnection(configuration: configuration, logger: logger) else { return nil }
        return Client(connection: connection, operator: connection.operatorClient(token: token))
    }

    /// The value after `flag` (or in `flag=value`) in the words typed so far.
    static func value(of flag: String, in words: [String]) -> String? {
        for (offset, word) in words.enumerated() {
            if word == flag, offset + 1 < words.count { return words[offset + 1] }
            if word.hasPrefix(flag + "=") { return String(word.dropFirst(flag.count + 1)) }
        }
        return nil
    }
}
