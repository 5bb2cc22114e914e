import ArgumentParser
import Foundation
import MusterClient
import MusterConsole
import MusterCore

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print a broker's events; with --follow, keep printing them live.",
        discussion: """
            Every change on the broker is an event with a sequence number. Without --follow this prints the \
            events stored so far and exits; with --follow it keeps the stream open, reconnecting and resuming \
            from the last event seen if the broker goes away. --json prints one JSON object per line.

            Examples:
              muster events
              muster events --follow --context cpe-3f9a
              muster events --follow --json \\
                | jq -c 'select(.kind == "node-state")'
              muster events --after 120
            """
    )

    @OptionGroup var context: ContextOption

    @Option(help: "Start after this sequence number.")
    var after: UInt64?

    @Flag(help: "Keep printing events as they happen.")
    var follow = false

    @Flag(help: "One JSON object per line.")
    var json = false

    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        let contextFilter = context.context.map { ContextID($0) }
        try await WithBroker.run(brokerOptions) { client in
            // Without --follow, stop at the sequence number the broker had when we started.
            if follow { Output.watchForClosedReader() }
            let end = follow ? nil : try await client.snapshot(of: contextFilter).sequence
            if let end, end <= (after ?? 0) { return }
            let encoder = WireFormat.encoder()
            for try await element in client.events(context: contextFilter, after: after) {
                switch element {
                case .event(let event):
                    if json {
                        Output.line(String(decoding: try encoder.encode(event), as: UTF8.self))
                    } else {
                        Output.line(Self.line(event))
                    }
                    if let end, event.sequence >= end { return }
                case .connection(let state):
                    if !json && state.isInterrupted { Output.error("muster events: \(state)") }
                }
            }
        }
    }

    static func line(_ event: ContextEvent) -> String {
        let time = event.time.formatted(.iso8601.time(includingFractionalSeconds: false))
        return "#\(event.sequence)  \(time)  \(event.context)  \(TerminalText.inert(EventLogEntry(event).text))"
    }
}
