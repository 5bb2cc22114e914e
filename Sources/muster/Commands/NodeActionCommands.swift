import ArgumentParser
import Foundation
import MusterClient
import MusterCore

/// The argument every node command takes.
struct NodeArgument: ParsableArguments {
    @Argument(
        help: ArgumentHelp("The node: CONTEXT/NODE, or NODE (with --context, or the broker's only live context).", valueName: "node"),
        completion: .custom(Completion.nodes)
    )
    var node: String

    @OptionGroup var context: ContextOption

    func resolve(_ client: OperatorClient) async throws -> NodeReference {
        try await NodeReference.resolve(node, context: context.context, client: client)
    }
}

struct KillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill",
        abstract: "Kill a node: stop its agent and every process it started.",
        discussion: """
            A killed node can be started again with `muster retry`.

            Examples:
              muster kill provisioner-0
              muster kill cpe-3f9a/provisioner-0 --json
            """
    )

    @OptionGroup var target: NodeArgument
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        try await WithBroker.run(brokerOptions) { client in
            let node = try await target.resolve(client)
            let result = try await client.kill(node.node, in: node.context)
            if json { try JSONOutput.print(result) } else { Output.line("\(node.description): killed") }
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
            hear of its new identity. Without a launcher (nodes started elsewhere), --json prints the new \
            token so that the node can be started by hand.

            Examples:
              muster retry app-0
              muster retry cpe-3f9a/app-0 --json
            """
    )

    @OptionGroup var target: NodeArgument
    @Flag(help: "Print the result as JSON (with the new token).") var json = false
    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        try await WithBroker.run(brokerOptions) { client in
            let node = try await target.resolve(client)
            let result = try await client.retry(node.node, in: node.context)
            if json {
                try JSONOutput.print(result)
            } else {
                let generation = result.nodes.first?.generation ?? 0
                Output.line("\(node.description): retrying (generation \(generation))")
            }
        }
    }
}

struct TerminateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "terminate",
        abstract: "End a context: stop every node; the context then accepts no more changes.",
        discussion: """
            Unfinished nodes become killed; ok nodes keep their result, and their agents (and, on a cloud \
            launcher, their machines) are stopped too.

            Examples:
              muster terminate cpe-3f9a
              muster terminate            (the broker's only live context)
            """
    )

    @Argument(
        help: ArgumentHelp("The context (default: --context, or the broker's only live one).", valueName: "id"),
        completion: .custom(Completion.contexts)
    )
    var id: String?
    @OptionGroup var context: ContextOption
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        try await WithBroker.run(brokerOptions) { client in
            let id = try await ContextReference.resolve(try ContextOption.either(id, context.context), client: client)
            let summary = try await client.terminate(id)
            if json {
                try JSONOutput.print(summary)
            } else {
                Output.line("\(id): terminated (\(summary.status.count(.ok)) ok, \(summary.status.count(.killed)) killed)")
            }
        }
    }
}

extension ContextOption {
    /// The context named by an argument or by `--context` (they must agree when both are given).
    static func either(_ argument: String?, _ option: String?) throws -> String? {
        if let argument, let option, argument != option {
            throw CommandFailure(ExitCodes.usage, "the context is given twice, as \(argument) and as --context \(option)")
        }
        return argument ?? option
    }
}
