import ArgumentParser
import Foundation
import MusterClient
import MusterCore

struct KillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill",
        abstract: "Kill a node: stop its agent and every process it started.",
        discussion: """
            NODE is CONTEXT/NODE, or NODE with --context, or just NODE when the broker has one live context.
            A killed node can be started again with `muster retry`.

            Examples:
              muster kill provisioner-0
              muster kill cpe-3f9a/provisioner-0
            """
    )

    @Argument(help: "The node.") var node: String
    @Option(help: "The node's context.") var context: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        try await WithBroker.run(brokerOptions) { client in
            let target = try await NodeReference.resolve(node, context: context, client: client)
            let result = try await client.kill(target.node, in: target.context)
            if json { try JSONOutput.print(result) } else { print("\(target.context)/\(target.node): killed") }
        }
    }
}

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Start a failed, killed or timed-out node again in its slot.",
        discussion: """
            The node gets a new agent (on the local launcher, the image's ctx-scripts are copied again, so a \
            fixed script is picked up) and a new token; it checks in again, and nodes that already knew it \
            hear of its new identity. NODE is CONTEXT/NODE, NODE with --context, or NODE alone when the broker \
            has one live context. Without a launcher (nodes started elsewhere), the new token is printed so \
            that the node can be started by hand.

            Examples:
              muster retry app-0
              muster retry cpe-3f9a/app-0 --json
            """
    )

    @Argument(help: "The node.") var node: String
    @Option(help: "The node's context.") var context: String?
    @Flag(help: "Print the result as JSON (with the new token).") var json = false
    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        try await WithBroker.run(brokerOptions) { client in
            let target = try await NodeReference.resolve(node, context: context, client: client)
            let result = try await client.retry(target.node, in: target.context)
            if json {
                try JSONOutput.print(result)
            } else {
                let generation = result.nodes.first?.generation ?? 0
                print("\(target.context)/\(target.node): retrying (generation \(generation))")
            }
        }
    }
}

struct TerminateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "terminate",
        abstract: "End a context: kill every unfinished node; the context then accepts no more changes.",
        discussion: """
            Examples:
              muster terminate cpe-3f9a
              muster terminate            (the broker's only live context)
            """
    )

    @Argument(help: "The context.") var context: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        try await WithBroker.run(brokerOptions) { client in
            let id = try await ContextReference.resolve(context, client: client)
            let summary = try await client.terminate(id)
            if json {
                try JSONOutput.print(summary)
            } else {
                print("\(id): terminated (\(summary.status.count(.ok)) ok, \(summary.status.count(.killed)) killed)")
            }
        }
    }
}
