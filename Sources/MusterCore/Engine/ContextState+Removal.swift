import Foundation

/// Removing slots: a workspace shrinks when the operator scales it down.
///
/// Only a slot with nothing running for it can go (see ``NodeState/isRemovable``): a running node is killed
/// first. What the workspace's requirers wait for shrinks with it, so a node waiting on a provider that never came
/// up is released once that provider's slot is removed. A removed slot's name is never used again in the context,
/// so nothing stored under it (tokens, output) can be mistaken for a later slot's.
extension ContextState {
    mutating func removeNodes(_ names: [String], at time: Date, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        guard !names.isEmpty else { throw EngineError(.invalidInput, "no node to remove was named") }
        var removed: Set<Int> = []
        for name in names {
            let index = try nodeIndex(name)
            let state = nodes[index].state
            guard state.isRemovable else {
                throw EngineError(
                    .conflict,
                    "node '\(name)' is \(state.rawValue); only a pending, failed, killed or timed-out slot can be removed (kill it first)"
                )
            }
            removed.insert(index)
        }
        for workspace in workspaces where workspace.nodes.allSatisfy({ removed.contains($0) }) && workspace.nodes.contains(where: removed.contains) {
            throw EngineError(.conflict, "workspace '\(workspace.spec.name)' would have no node left; a workspace keeps at least one")
        }

        // Released requirers whose answer names a removed node (a provider that registered, then failed) get the
        // new answer; found before the indices change.
        var toldRequirers: Set<String> = []
        for index in removed where nodes[index].isRegistered {
            for role in providedRoles(of: index) {
                for requirer in roles[role]!.requirers where !removed.contains(requirer) && nodes[requirer].isReleased {
                    toldRequirers.insert(nodes[requirer].name)
                }
            }
            if workspaces[nodes[index].workspace].spec.provides.sharesIdentity {
                for requirer in allIdentityRequirers where !removed.contains(requirer) && nodes[requirer].isReleased {
                    toldRequirers.insert(nodes[requirer].name)
                }
            }
        }
        var affectedRoles: [String] = []
        for index in removed.sorted() {
            for role in providedRoles(of: index) where !affectedRoles.contains(role) { affectedRoles.append(role) }
            recorder.changes.append(.nodeRemoved(node: nodes[index].name, workspace: workspaces[nodes[index].workspace].spec.name))
            // A failed or timed-out node's machine may have been kept for a look: it goes with its slot.
            recorder.actions.append(.stop(context: id, node: nodes[index].name))
        }

        reindex(without: removed)
        refreshProgress(at: time)
        for role in affectedRoles { recorder.changes.append(.roleProgress(roles[role]!.status)) }
        recorder.changes.append(.registrationProgress(registered: registeredNodes, expected: nodes.count))

        for requirer in toldRequirers.sorted() {
            guard let index = nodeIndex[requirer] else { continue }
            nodes[index].answerVersion += 1
        }
        if !toldRequirers.isEmpty { recorder.actions.append(.notify(context: id, nodes: toldRequirers.sorted())) }
        // Fewer providers to wait for: whoever waits and is now satisfied is released.
        for index in nodes.indices where nodes[index].state == .waiting && isMet(index) {
            release(index, at: time, recorder: &recorder)
        }
        announceStatus(&recorder)
    }

    /// Drops the nodes at `removed` and renumbers every index that points at nodes.
    private mutating func reindex(without removed: Set<Int>) {
        var newIndex: [Int?] = Array(repeating: nil, count: nodes.count)
        var kept: [NodeRecord] = []
        kept.reserveCapacity(nodes.count - removed.count)
        for index in nodes.indices where !removed.contains(index) {
            newIndex[index] = kept.count
            kept.append(nodes[index])
        }
        for index in removed { nodeIndex[nodes[index].name] = nil }
        nodes = kept
        for index in nodes.indices { nodeIndex[nodes[index].name] = index }
        for workspace in workspaces.indices {
            // A workspace that predates removal learns how many slots it made before any is gone.
            if workspaces[workspace].slotsMade == nil { workspaces[workspace].slotsMade = workspaces[workspace].nodes.count }
            workspaces[workspace].nodes = workspaces[workspace].nodes.compactMap { newIndex[$0] }
        }
        for name in roles.keys {
            roles[name]!.providers = roles[name]!.providers.compactMap { provider in
                newIndex[provider.node].map { RoleRecord.Provider(node: $0, interface: provider.interface) }
            }
            roles[name]!.requirers = roles[name]!.requirers.compactMap { newIndex[$0] }
        }
        allIdentityRequirers = allIdentityRequirers.compactMap { newIndex[$0] }
    }

    /// Recounts what depends on which nodes exist: per-state counts, each role's registered and ready providers
    /// (and since when each requirement holds), the registered nodes.
    private mutating func refreshProgress(at time: Date) {
        counts = [:]
        for node in nodes { counts[node.state, default: 0] += 1 }
        for name in roles.keys {
            let providers = roles[name]!.providers
            roles[name]!.registered = providers.count { nodes[$0.node].isRegistered }
            roles[name]!.ready = providers.count { nodes[$0.node].isReady }
            let status = roles[name]!.status
            roles[name]!.registeredSince = status.isMet(for: .registered) ? (roles[name]!.registeredSince ?? time) : nil
            roles[name]!.readySince = status.isMet(for: .ready) ? (roles[name]!.readySince ?? time) : nil
        }
        registeredNodes = nodes.count { $0.isRegistered }
        allRegisteredSince = registeredNodes == nodes.count ? (allRegisteredSince ?? time) : nil
    }
}
