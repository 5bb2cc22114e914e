import Foundation
import MusterCore

/// The console model as a ``BootSource``, so that the timeline computes the critical chain from what the console
/// already holds, without copying ten thousand records per frame.
struct ModelBoot: BootSource {
    let model: ConsoleModel

    var nodeCount: Int { model.nodes.count }

    func boot(of index: Int) -> NodeBoot {
        let node = model.nodes[index]
        return NodeBoot(
            name: node.name,
            workspace: model.workspaces[node.workspace].name,
            state: node.state,
            launchedAt: node.launchedAt,
            registeredAt: node.registeredAt,
            releasedAt: node.releasedAt,
            finishedAt: node.finishedAt,
            scripts: node.timeline,
            waits: model.waits(of: index)
        )
    }

    func finishedAt(of index: Int) -> Date? { model.nodes[index].finishedAt }

    func providers(of label: String) -> [Int] {
        if label == "*" { return Array(model.nodes.indices) }
        return (model.roles[label]?.providerWorkspaces ?? []).flatMap { model.workspaces[$0].nodes }
    }

    func arrival(of index: Int, for wait: WaitCondition) -> Date? {
        let node = model.nodes[index]
        return wait == .ready ? (node.state == .ok ? node.finishedAt : nil) : node.registeredAt
    }
}

extension ConsoleModel {
    /// What node `index`'s release waits for, with since when each is met (as the detail view shows them).
    func waits(of index: Int) -> [NodeBoot.Wait] {
        let workspace = workspaces[nodes[index].workspace]
        var result: [NodeBoot.Wait] = []
        if workspace.requiresAllIdentities { result.append(NodeBoot.Wait(label: "*", wait: .registered, metSince: registration.completeSince)) }
        var seen: Set<String> = []
        for role in workspace.requiredRoles where seen.insert(role.name).inserted {
            result.append(NodeBoot.Wait(label: role.name, wait: role.wait, metSince: roles[role.name]?.metSince(for: role.wait)))
        }
        return result
    }

    /// The context's critical chain so far (nil until a node finished), computed once per state of the model.
    public var criticalChain: CriticalChain? { chainMemo.value { CriticalChain.compute(ModelBoot(model: self)) } }
}
