import ArgumentParser
import Foundation
import MusterClient
import MusterCore

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a node's script output; with --follow, keep printing it live.",
        discussion: """
            Every line a node's ctx-scripts print (and the agent's own lines about each run) is kept by the \
            broker, for every attempt: a retry starts a new attempt, and the earlier ones stay. The latest \
            attempt is printed unless --attempt names another (1 is the first); a note on standard error says \
            when there were earlier ones. --follow keeps printing through retries, with a line between attempts. \
            Lines are printed as PHASE SCRIPT | TEXT; stderr lines are marked with '!'. Control characters a \
            script printed are shown as escapes (\\x1b), never sent to your terminal; --json gives the text as \
            the node sent it.

            Examples:
              muster logs scheduler-0
              muster logs app-0 --attempt 1
              muster logs cpe-3f9a/rabbitmq-head-0 --follow
              muster logs app-0 --json \\
                | jq -r 'select(.stream == "stderr") | .text'
            """
    )

    @OptionGroup var target: NodeArgument
    @Flag(help: "Keep printing lines as they come, through retries.") var follow = false
    @Option(help: ArgumentHelp("The attempt to print: 1 is the first (default: the latest).", valueName: "n")) var attempt: Int?
    @Flag(help: "One JSON object per line.") var json = false
    @OptionGroup var brokerOptions: BrokerOptions

    func validate() throws {
        if let attempt, attempt < 1 { throw ValidationError("--attempt counts from 1 (the first attempt)") }
        if attempt != nil && follow { throw ValidationError("--follow follows the latest attempt; leave out --attempt") }
    }

    func run() async throws {
        let json = json
        try await WithBroker.run(brokerOptions) { client in
            let target = try await target.resolve(client)
            if follow {
                Output.watchForClosedReader()
                try await Self.follow(target, client: client, json: json)
                return
            }
            let node = try await client.node(target.node, in: target.context)
            let generation = attempt.map { $0 - 1 } ?? node.generation
            guard generation <= node.generation else {
                throw CommandFailure(
                    ExitCodes.notFound,
                    "\(target) has had \(node.generation + 1) attempt\(node.generation == 0 ? "" : "s"); there is no attempt \(generation + 1)"
                )
            }
            if node.generation > 0 {
                let others = generation == node.generation ? "earlier ones: --attempt 1…\(node.generation)" : "the latest: leave out --attempt"
                Output.error("muster logs: attempt \(generation + 1) of \(node.generation + 1) of \(target.node) (\(others))")
            }
            var from = 0
            while true {
                let page = try await client.output(of: target.node, in: target.context, generation: generation, from: from, limit: 5_000)
                for line in page.lines { try Self.print(line, json: json) }
                if page.lines.isEmpty || page.next >= page.total { break }
                from = page.next
            }
        }
    }

    /// Prints the latest attempt's output as it comes; when the node is retried, goes on with the new attempt.
    private static func follow(_ target: NodeReference, client: OperatorClient, json: Bool) async throws {
        let picture = try await client.snapshot(of: target.context)
        guard let context = picture.contexts.first, let node = context.nodes.first(where: { $0.name == target.node }) else {
            throw CommandFailure(ExitCodes.notFound, "no node \(target)")
        }
        var generation = node.generation
        var after = context.sequence
        while true {
            let since = after
            let retriedAt: UInt64? = try await withThrowingTaskGroup(of: UInt64?.self) { group in
                group.addTask {
                    for try await element in client.outputStream(of: target.node, in: target.context) {
                        if case .line(let line) = element { try print(line, json: json) }
                    }
                    return nil
                }
                group.addTask {
                    for try await element in client.events(context: target.context, after: since) {
                        guard case .event(let event) = element, case .nodeState(let transition) = event.change else { continue }
                        if transition.node == target.node && transition.to == .launching && transition.from.isRetryable { return event.sequence }
                    }
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
            guard let retriedAt else { return }
            after = retriedAt
            generation += 1
            if !json { Output.line("── attempt \(generation + 1) of \(target.node) (retried) ──") }
        }
    }

    private static func print(_ line: OutputLine, json: Bool) throws {
        if json {
            Output.line(String(decoding: try WireFormat.encoder().encode(line), as: UTF8.self))
        } else {
            Output.line("\(line.phase) \(TerminalText.inert(line.script)) \(line.stream == .stderr ? "!" : "|") \(TerminalText.inert(line.text))")
        }
    }
}
