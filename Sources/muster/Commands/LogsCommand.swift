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
            broker. Lines are printed as PHASE SCRIPT | TEXT; stderr lines are marked with '!'. Control \
            characters a script printed are shown as escapes (\\x1b), never sent to your terminal; --json \
            gives the text as the node sent it.

            Examples:
              muster logs scheduler-0
              muster logs cpe-3f9a/rabbitmq-head-0 --follow
              muster logs app-0 --json \\
                | jq -r 'select(.stream == "stderr") | .text'
            """
    )

    @OptionGroup var target: NodeArgument
    @Flag(help: "Keep printing lines as they come.") var follow = false
    @Flag(help: "One JSON object per line.") var json = false
    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        try await WithBroker.run(brokerOptions) { client in
            let target = try await target.resolve(client)
            let encoder = WireFormat.encoder()
            func print(_ line: OutputLine) throws {
                if json {
                    Output.line(String(decoding: try encoder.encode(line), as: UTF8.self))
                } else {
                    Output.line(
                        "\(line.phase) \(TerminalText.inert(line.script)) \(line.stream == .stderr ? "!" : "|") \(TerminalText.inert(line.text))"
                    )
                }
            }
            if follow {
                Output.watchForClosedReader()
                for try await element in client.outputStream(of: target.node, in: target.context) {
                    if case .line(let line) = element { try print(line) }
                }
                return
            }
            var from = 0
            while true {
                let page = try await client.output(of: target.node, in: target.context, from: from, limit: 5_000)
                for line in page.lines { try print(line) }
                if page.lines.isEmpty || page.next >= page.total { break }
                from = page.next
            }
        }
    }
}
