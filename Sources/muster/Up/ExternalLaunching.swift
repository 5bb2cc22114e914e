import Foundation
import Logging
import MusterClient
import MusterCore

/// `muster up --broker URL`: this process is the launcher of a context on a broker that has none of its own.
///
/// It starts the nodes with the tokens the context's creation handed out, then follows the context's events: a
/// node that goes back to `launching` (retried, or added by a scale) is claimed (the broker mints a fresh token
/// for it) and started again; a killed node is stopped; a terminated context stops them all. What the launcher
/// sees (booted, failed, the agent ended) goes back to the broker as launch reports, so that the broker's view
/// is the same as with its own launcher.
struct ExternalLaunching: Sendable {
    let client: OperatorClient
    let launcher: any NodeLauncher
    /// The addresses the agents use to reach the broker (replicas sharing a store, or one broker).
    let brokerURLs: [String]
    let logger: Logger

    /// The broker addresses node number `index` is given: every one, starting at a different one for each node,
    /// so that the agents spread over replicas and each can move to the others.
    func agentBrokerURL(forNodeAt index: Int) -> String {
        guard !brokerURLs.isEmpty else { return "" }
        let start = index % brokerURLs.count
        return (brokerURLs[start...] + brokerURLs[..<start]).joined(separator: ",")
    }

    func run(_ created: CreatedContext) async {
        let context = created.context
        var workspaces: [String: WorkspaceSnapshot] = [:]
        for workspace in context.workspaces { workspaces[workspace.name] = workspace }
        let reporter = Reporter(client: client, logger: logger)
        for credential in created.credentials {
            guard let node = context.nodes.first(where: { $0.name == credential.node }), let workspace = workspaces[node.workspace] else { continue }
            await launcher.launch(request(context, node: node, workspace: workspace, credential: credential), reporter: reporter)
        }
        do {
            for try await element in client.events(context: context.id, after: context.sequence) {
                guard case .event(let event) = element else { continue }
                switch event.change {
                case .nodeState(let transition) where transition.to == .launching:
                    await claim(transition.node, in: context, reporter: reporter)
                case .nodeState(let transition) where transition.to == .killed:
                    await launcher.stop(context: context.id, node: transition.node)
                case .contextTerminated:
                    await launcher.stopAll()
                    return
                default:
                    break
                }
            }
        } catch {
            if !(error is CancellationError) { logger.error("stopped following the context's launches", metadata: ["error": "\(error)"]) }
        }
    }

    /// Takes on launching a node the broker put back to `launching`, and starts it.
    private func claim(_ name: String, in context: ContextSnapshot, reporter: Reporter) async {
        do {
            let claimed = try await client.claimLaunch(name, in: context.id)
            let detail = try await client.context(context.id)
            guard let credential = claimed.credentials.first,
                let node = detail.context.nodes.first(where: { $0.name == name }),
                let workspace = detail.context.workspaces.first(where: { $0.name == node.workspace })
            else { return }
            await launcher.launch(request(detail.context, node: node, workspace: workspace, credential: credential), reporter: reporter)
        } catch {
            logger.warning("could not launch a node again", metadata: ["node": "\(context.id)/\(name)", "error": "\(error)"])
        }
    }

    private func request(_ context: ContextSnapshot, node: NodeSnapshot, workspace: WorkspaceSnapshot, credential: NodeCredential) -> LaunchRequest {
        LaunchRequest(
            context: context.id,
            contextName: context.name,
            node: node.name,
            workspace: workspace.name,
            image: workspace.image,
            nics: workspace.nics,
            generation: credential.generation,
            token: credential.token,
            brokerURL: agentBrokerURL(forNodeAt: context.nodes.firstIndex { $0.name == node.name } ?? 0)
        )
    }

    /// Sends the launcher's reports to the broker (retried while it is briefly away; dropped, with a log line,
    /// when it refuses them).
    struct Reporter: LaunchReporter {
        let client: OperatorClient
        let logger: Logger

        func booted(context: ContextID, node: String, generation: Int) async {
            await send(LaunchReport(generation: generation, event: .booted), node: node, context: context)
        }

        func launchFailed(context: ContextID, node: String, generation: Int, message: String) async {
            await send(LaunchReport(generation: generation, event: .failed, message: message), node: node, context: context)
        }

        func agentExited(context: ContextID, node: String, generation: Int, status: Int32, message: String) async {
            await send(LaunchReport(generation: generation, event: .exited, message: message, status: Int(status)), node: node, context: context)
        }

        func machine(context: ContextID, node: String, generation: Int, details: MachineDetails) async {
            await send(LaunchReport(generation: generation, event: .machine, machine: details), node: node, context: context)
        }

        private func send(_ report: LaunchReport, node: String, context: ContextID) async {
            do {
                try await client.reportLaunch(report, of: node, in: context)
            } catch {
                logger.warning("the broker did not take a launch report", metadata: ["node": "\(context)/\(node)", "error": "\(error)"])
            }
        }
    }
}
