import ArgumentParser
import Foundation
import Logging
import MusterClient
import MusterCore
import MusterLaunch

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

struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a node's slot from its workspace (scale the workspace down by one).",
        discussion: """
            Only a slot with nothing running can go: a pending node, or a failed, killed or timed-out one \
            (kill a running node first). What the workspace's requirers wait for shrinks with it, so a node \
            waiting on a provider that never came up is released once that provider's slot is removed. A \
            workspace keeps at least one node, and a removed slot's name is not used again (its output and \
            token are gone with it). Refused with status 75 when the node is running.

            Examples:
              muster remove worker-7
              muster remove cpe-3f9a/worker-7 --json
            """
    )

    @OptionGroup var target: NodeArgument
    @Flag(help: "Print the result as JSON (the node as it was).") var json = false
    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        try await WithBroker.run(brokerOptions) { client in
            let node = try await target.resolve(client)
            let result = try await client.removeNode(node.node, in: node.context)
            if json { try JSONOutput.print(result) } else { Output.line("\(node.description): removed") }
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

            With --ec2 it also terminates, through the AWS CLI, every EC2 instance tagged with the context \
            (muster:context), whoever started it — what a `muster up --launcher ec2` that was killed left \
            running. The broker need not be reachable then: give the context id.

            Examples:
              muster terminate cpe-3f9a
              muster terminate            (the broker's only live context)
              muster terminate cpe-3f9a --ec2 --region eu-west-1
            """
    )

    @Argument(
        help: ArgumentHelp("The context (default: --context, or the broker's only live one).", valueName: "id"),
        completion: .custom(Completion.contexts)
    )
    var id: String?
    @OptionGroup var context: ContextOption
    @Flag(help: "Also terminate every EC2 instance tagged with the context.") var ec2 = false
    @OptionGroup(title: "EC2 (with --ec2)") var aws: AWSOptions
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        let given = try await CommandFailure.reporting { try ContextOption.either(id, context.context) }
        guard ec2 else {
            try await WithBroker.run(brokerOptions) { client in
                let id = try await ContextReference.resolve(given, client: client)
                let summary = try await client.terminate(id)
                if json {
                    try JSONOutput.print(summary)
                } else {
                    Output.line("\(id): terminated (\(summary.status.count(.ok)) ok, \(summary.status.count(.killed)) killed)")
                }
            }
            return
        }
        try await CommandFailure.reporting {
            // The broker first, when there is one; the instances in any case (a killed `muster up` took its broker along).
            var id = given.map { ContextID($0) }
            var brokerNote: String
            do {
                let summary = try await WithBroker.quietly(brokerOptions) { client in
                    let resolved = try await ContextReference.resolve(given, client: client)
                    id = resolved
                    return try await client.terminate(resolved)
                }
                brokerNote = "terminated on the broker (\(summary.status.count(.ok)) ok, \(summary.status.count(.killed)) killed)"
            } catch {
                brokerNote = "not on the broker (\(Self.reason(error)))"
            }
            guard let id else { throw CommandFailure(ExitCodes.usage, "name the context: the broker could not be asked (\(brokerNote))") }
            var logger = Logger(label: "muster.terminate")
            logger.logLevel = .warning
            let instances: [String]
            do {
                instances = try await EC2Launcher.terminate(context: id, aws: AWSCommandLine(options: aws.options, logger: logger))
            } catch let error as AWSError {
                throw CommandFailure(error.exitCode, "\(id): \(brokerNote); the EC2 instances could not be terminated: \(error.message)")
            }
            if json {
                try JSONOutput.print(TerminatedInstances(context: id, instances: instances))
            } else {
                let what = instances.isEmpty ? "no EC2 instance was left" : "EC2 instances terminated: \(instances.joined(separator: ", "))"
                Output.line("\(id): \(brokerNote); \(what)")
            }
        }
    }

    private static func reason(_ error: any Error) -> String {
        (error as? CommandFailure)?.message ?? (error as? BrokerClientError)?.operatorMessage ?? "\(error)"
    }

    private struct TerminatedInstances: Encodable {
        var context: ContextID
        var instances: [String]
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
