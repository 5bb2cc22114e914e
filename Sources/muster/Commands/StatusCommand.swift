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

            Exit status: 0; with --check, 0 when the context is complete and all ok, 1 when it has an error, \
            2 while it is still running.

            Examples:
              muster status
              muster status cpe-3f9a
              muster status cpe-3f9a --json | jq '.context.nodes[] | select(.state == "failed")'
            """
    )

    @Argument(help: "The context to show (default: all contexts).")
    var context: String?

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Exit 0 when the context is complete and all ok, 1 when it has an error, 2 while it runs.")
    var check = false

    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        try await WithBroker.run(brokerOptions) { client in
            if let context {
                let detail = try await client.context(ContextID(context))
                if json { try JSONOutput.print(detail) } else { print(Self.render(detail.context, now: Date())) }
                if check {
                    let status = detail.context.status
                    if status.errorPresent { throw ExitCode(1) }
                    if !(status.complete && status.allOk) { throw ExitCode(2) }
                }
            } else {
                let contexts = try await client.contexts()
                if json {
                    try JSONOutput.print(ContextList(contexts: contexts))
                } else if contexts.isEmpty {
                    print("no contexts on this broker")
                } else {
                    var table = Table("CONTEXT", "NAME", "NODES", "OK", "REGISTERED", "STATUS")
                    for summary in contexts {
                        let status = summary.status
                        table.add(
                            summary.id.rawValue,
                            summary.name,
                            String(status.expected),
                            String(status.count(.ok)),
                            "\(status.registered)/\(status.expected)",
                            Self.describe(status)
                        )
                    }
                    print(table.rendered())
                }
            }
        }
    }

    /// Nimbus's flags in words.
    static func describe(_ status: ContextStatus) -> String {
        if status.terminated { return "terminated" }
        if status.complete && status.allOk { return "complete, all ok" }
        if status.complete { return status.errorPresent ? "complete, with errors" : "complete" }
        return status.errorPresent ? "running, with errors" : "running"
    }

    static func render(_ context: ContextSnapshot, now: Date) -> String {
        var lines = [
            "\(context.name) (\(context.id)): \(describe(context.status)), \(context.status.registered)/\(context.status.expected) registered"
        ]
        var table = Table("NODE", "STATE", "IP", "FOR", "DETAIL")
        for node in context.nodes {
            var detail = ""
            switch node.state {
            case .waiting:
                detail = "waits: " + node.requirements.filter { !$0.isMet }.map { "\($0.label) \($0.filled)/\($0.expected)" }.joined(separator: ", ")
            case .failed, .timedOut, .killed:
                let firstLine = node.message.map { String($0.prefix { $0 != "\n" }) }
                detail = [node.exitCode.map { "exit \($0)" }, firstLine].compactMap { $0 }.joined(separator: ": ")
            case .configuring:
                detail = node.currentScript.map { "running \($0.script.script)" } ?? "released"
            default:
                break
            }
            table.add(node.name, node.state.rawValue, node.identities.first?.ip ?? "-", HumanDuration.text(now.timeIntervalSince(node.since)), detail)
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
