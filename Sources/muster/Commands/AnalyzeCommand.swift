import ArgumentParser
import Foundation
import MusterClient
import MusterCore

struct AnalyzeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Show what decided how long a context took to boot: its critical chain and its slowest scripts.",
        discussion: """
            As `systemd-analyze critical-chain` does for a boot: from the node that finished last, back along what \
            held it — its scripts, the requirement whose last provider released it, that provider's own boot (or, \
            for a readiness wait, its scripts and release) — to a node that waited for nothing. Each step has its \
            start (@, from the context's creation) and its length (+). Then the slowest scripts of the context. \
            The console's timeline view (4) draws the same chain.

            Examples:
              muster analyze
              muster analyze cpe-3f9a --top 5
              muster analyze cpe-3f9a --json \\
                | jq '.chain.links[] | select(.kind == "scripts")'
            """
    )

    @Argument(help: ArgumentHelp("The context (default: the broker's only live context).", valueName: "id"), completion: .custom(Completion.contexts))
    var id: String?

    @OptionGroup var context: ContextOption

    @Option(help: "How many of the slowest scripts to list.")
    var top = 10

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var brokerOptions: BrokerOptions

    /// What `--json` prints.
    struct Analysis: Codable {
        struct Script: Codable {
            var node: String
            var phase: Int
            var script: String
            var arguments: [String]
            var seconds: Double
            var exitCode: Int?
        }

        var context: ContextID
        var name: String
        var complete: Bool
        var allOk: Bool
        /// Seconds from creation to the end of the chain (the last node finished).
        var seconds: Double?
        var chain: CriticalChain?
        var slowest: [Script]
    }

    func run() async throws {
        try await WithBroker.run(brokerOptions) { client in
            let id = try await ContextReference.resolve(try ContextOption.either(id, context.context), client: client)
            let timeline = try await Self.timeline(of: id, client: client)
            let snapshot = timeline.snapshot
            let chain = CriticalChain.compute(timeline.boot)
            let slowest = timeline.boot.slowestScripts(limit: max(0, top)).map {
                Analysis.Script(
                    node: $0.node,
                    phase: $0.run.script.phase,
                    script: $0.run.script.script,
                    arguments: $0.run.script.arguments,
                    seconds: $0.run.duration,
                    exitCode: $0.run.exitCode
                )
            }
            let analysis = Analysis(
                context: id,
                name: snapshot.name,
                complete: snapshot.status.complete,
                allOk: snapshot.status.allOk,
                seconds: chain.map { $0.end.timeIntervalSince(snapshot.createdAt) },
                chain: chain,
                slowest: slowest
            )
            if json {
                try JSONOutput.print(analysis)
            } else {
                Output.line(Self.render(analysis, createdAt: snapshot.createdAt))
            }
        }
    }

    /// The context's snapshot and its boot records, refined with every stored event of the context.
    static func timeline(of id: ContextID, client: OperatorClient) async throws -> (snapshot: ContextSnapshot, boot: BootTimeline) {
        let picture = try await client.snapshot(of: id)
        guard let snapshot = picture.contexts.first else { throw CommandFailure(ExitCodes.notFound, "no context \(id)") }
        var boot = BootTimeline(snapshot)
        boot.apply(try await client.storedEvents(of: id, through: snapshot.sequence))
        return (snapshot, boot)
    }

    /// The text report.
    static func render(_ analysis: Analysis, createdAt: Date) -> String {
        var lines: [String] = []
        let state = analysis.complete ? (analysis.allOk ? "complete, all ok" : "complete with errors") : "still running"
        guard let chain = analysis.chain else {
            return "context \(analysis.context) (\(analysis.name)): \(state); no node has finished yet, so there is no critical chain"
        }
        lines.append(
            "critical chain of \(analysis.context) (\(analysis.name)): \(state), the last node finished "
                + "\(seconds(chain.end.timeIntervalSince(createdAt))) after creation"
        )
        let width = max(8, chain.links.map(\.node.count).max() ?? 8)
        for link in chain.links {
            let start = link.start.map { "@" + seconds($0.timeIntervalSince(createdAt)) } ?? "@?"
            let length = link.start == nil ? "" : "+" + seconds(link.duration)
            let what: String
            switch link.kind {
            case .boot:
                what = "boot: launched → checked in"
            case .wait:
                let label = link.label == "*" ? "every node's identity" : "role \(link.label ?? "?")"
                what = "waited for \(label)" + (link.provider.map { ": \($0) came last" } ?? "")
            case .scripts:
                what = "scripts" + (link.slowest.map { ", slowest \($0.script.script) (\(seconds($0.duration)))" } ?? "")
            }
            lines.append(
                "  " + start.padding(toLength: 10, withPad: " ", startingAt: 0) + length.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + link.node.padding(toLength: width + 2, withPad: " ", startingAt: 0) + what
            )
        }
        if !analysis.slowest.isEmpty {
            lines.append("")
            lines.append("slowest scripts:")
            let nodeWidth = max(8, analysis.slowest.map(\.node.count).max() ?? 8)
            for script in analysis.slowest {
                var line = "  " + seconds(script.seconds).padding(toLength: 9, withPad: " ", startingAt: 0)
                line += script.node.padding(toLength: nodeWidth + 2, withPad: " ", startingAt: 0) + script.script
                if let code = script.exitCode, code != 0 { line += "  (exit \(code))" }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `1.234s`.
    static func seconds(_ value: Double) -> String { String(format: "%.3fs", max(0, value)) }
}
