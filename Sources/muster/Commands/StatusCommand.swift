import ArgumentParser
import Foundation
import MusterClient
import MusterCore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the contexts on a broker, or one context's nodes.",
        discussion: """
            Without a context: one line per context with its counts and Nimbus's status flags. With one: every \
            node with its state, address, time in state and what it waits on or why it failed, then each role's \
            providers. --json prints the broker's own JSON (a context list, or the context detail).

            With --check (one context: the one named, or the broker's only live one), the exit status says how \
            it went: 0 complete and all ok; 1 a node failed, was killed or timed out; 2 still running; 66 no \
            such context (or none at all).

            Examples:
              muster status
              muster status cpe-3f9a
              muster status --check && echo ready
              muster status cpe-3f9a --json \\
                | jq '.context.nodes[] | select(.state == "failed")'
            """
    )

    @Argument(help: ArgumentHelp("The context to show (default: all contexts).", valueName: "id"), completion: .custom(Completion.contexts))
    var id: String?

    @OptionGroup var context: ContextOption

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Exit 0 when the context is complete and all ok, 1 when a node failed or was killed, 2 while it runs.")
    var check = false

    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        try await WithBroker.run(brokerOptions) { client in
            let given = try ContextOption.either(id, context.context)
            if given != nil || check {
                let id = try await ContextReference.resolve(given, client: client)
                let detail = try await client.context(id)
                if json {
                    try JSONOutput.print(detail)
                } else {
                    Output.line(Self.render(detail.context, now: Date()))
                    await Self.printReplica(client)
                }
                if check, let status = Self.checkStatus(detail.context.status) { throw status }
            } else {
                let contexts = try await client.contexts()
                if json {
                    try JSONOutput.print(ContextList(contexts: contexts))
                } else if contexts.isEmpty {
                    Output.line("no contexts on this broker")
                } else {
                    var table = Table("CONTEXT", "NAME", "NODES", "OK", "REGISTERED", "LAUNCHER", "STATUS")
                    for summary in contexts {
                        let status = summary.status
                        table.add(
                            summary.id.rawValue,
                            TerminalText.inert(summary.name),
                            String(status.expected),
                            String(status.count(.ok)),
                            "\(status.registered)/\(status.expected)",
                            TerminalText.inert(summary.launcher ?? "-"),
                            Self.describe(status)
                        )
                    }
                    Output.line(table.rendered())
                }
                if !json { await Self.printReplica(client) }
            }
        }
    }

    /// Which replica answered and the store kind, for brokers that share a store (nothing for one on its own).
    static func printReplica(_ client: OperatorClient) async {
        guard let summary = try? await client.health().replicaSummary else { return }
        Output.line("answered by \(client.connection.activeBaseURL) (\(summary))")
    }

    /// `--check`'s exit status for a context's status: nil (0) when complete and all ok.
    static func checkStatus(_ status: ContextStatus) -> ExitCode? {
        if status.errorPresent || status.count(.killed) > 0 { return ExitCodes.failure }
        if status.complete && status.allOk { return nil }
        // Terminated with nodes that never ran counts as failed: it will not run any further.
        return status.terminated ? ExitCodes.failure : ExitCodes.running
    }

    /// Nimbus's flags in words.
    static func describe(_ status: ContextStatus) -> String {
        if status.complete && status.allOk { return "complete, all ok" }
        if status.terminated { return status.errorPresent ? "terminated, with errors" : "terminated" }
        if status.complete { return status.errorPresent ? "complete, with errors" : "complete" }
        return status.errorPresent ? "running, with errors" : "running"
    }

    static func render(_ context: ContextSnapshot, now: Date) -> String {
        var lines = [
            "\(TerminalText.inert(context.name)) (\(context.id)): \(describe(context.status)), "
                + "\(context.status.registered)/\(context.status.expected) registered"
        ]
        var table = Table("NODE", "STATE", "IP", "FOR", "DETAIL")
        for node in context.nodes {
            var detail = ""
            switch node.state {
            case .waiting:
                detail = "waits: " + node.requirements.filter { !$0.isMet }.map { "\($0.label) \($0.filled)/\($0.expected)" }.joined(separator: ", ")
            case .failed, .timedOut, .killed:
                let firstLine = node.message.map { TerminalText.inert(String($0.prefix { $0 != "\n" })) }
                detail = [node.exitCode.map { "exit \($0)" }, firstLine].compactMap { $0 }.joined(separator: ": ")
            case .configuring:
                detail = node.currentScript.map { "running \(TerminalText.inert($0.script.script))" } ?? "released"
            default:
                break
            }
            table.add(
                node.name,
                node.state.rawValue,
                node.identities.first.map { TerminalText.inert($0.ip) } ?? "-",
                HumanDuration.text(now.timeIntervalSince(node.since)),
                detail
            )
        }
        lines.append(table.rendered())
        if !context.roles.isEmpty {
            lines.append("")
            var roles = Table("ROLE", "REGISTERED", "READY")
            for role in context.roles { roles.add(role.role, "\(role.registered)/\(role.expected)", "\(role.ready)/\(role.expected)") }
            lines.append(roles.rendered())
        }
        return lines.joined(separator: "\n")
    }
}
