import ArgumentParser
import MusterClient
import MusterCore

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Forget a context: its nodes, events, output and tokens are removed from the broker.",
        discussion: """
            What a long-lived broker needs to stay small. A context whose nodes still run (launching, \
            booted, waiting, configuring) is refused (exit 75) unless --force, which terminates it first \
            and stops its nodes. Nodes that are ok, failed, killed, timed out or never launched do not count.

            The broker then keeps nothing of the context: a follower of the events sees a last \
            `context-deleted` event, the context's id answers 404, its node tokens stop working, and a \
            snapshot of the remaining state replaces the stored commands (a restart replays only what \
            comes after).

            Examples:
              muster delete cpe-3f9a
              muster delete cpe-3f9a --force --json
            """
    )

    @Argument(help: ArgumentHelp("The context to delete.", valueName: "id"), completion: .custom(Completion.contexts))
    var id: String
    @Flag(help: "Terminate the context first if nodes still run.") var force = false
    @Flag(help: "Print the deleted context as JSON.") var json = false
    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        try await WithBroker.run(brokerOptions) { client in
            let id = try await ContextReference.resolve(id, client: client)
            let summary = try await client.deleteContext(id, force: force)
            if json {
                try JSONOutput.print(summary)
            } else {
                Output.line("\(id): deleted (\(summary.name), \(Plural.count(summary.status.expected, "node")))")
            }
        }
    }
}
