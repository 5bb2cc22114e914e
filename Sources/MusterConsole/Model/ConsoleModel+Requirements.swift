import Foundation
import MusterCore

extension ConsoleModel {
    /// At most this many provider slots are inspected to name missing providers, so that naming them costs the
    /// same for a role with ten thousand providers as for one with one. The counts are always exact.
    public static let missingScanLimit = 256

    /// A node's requirements with live counts: filled/expected come from the latest role and registration
    /// progress, not from the snapshot, so they move with every check-in without touching the requirers.
    public func requirements(of index: Int, missingLimit: Int = 3) -> [RequirementStatus] {
        let workspace = workspaces[nodes[index].workspace]
        var result: [RequirementStatus] = []
        if workspace.requiresAllIdentities {
            result.append(
                RequirementStatus(
                    kind: .allIdentities,
                    wait: .registered,
                    filled: registration.registered,
                    expected: registration.expected,
                    missing: missingProviders(of: "*", wait: .registered, limit: missingLimit),
                    metSince: registration.completeSince
                )
            )
        }
        var seen: Set<String> = []
        for role in workspace.requiredRoles where seen.insert(role.name).inserted {
            let progress = roles[role.name]
            result.append(
                RequirementStatus(
                    kind: .role(role.name),
                    wait: role.wait,
                    filled: progress?.status.filled(for: role.wait) ?? 0,
                    expected: progress?.status.expected ?? 0,
                    missing: missingProviders(of: role.name, wait: role.wait, limit: missingLimit),
                    metSince: progress?.metSince(for: role.wait)
                )
            )
        }
        return result
    }

    /// The labels of a node's requirements that are not met now.
    public func unmetLabels(of index: Int) -> [String] {
        let workspace = workspaces[nodes[index].workspace]
        var labels: [String] = []
        if workspace.requiresAllIdentities && !registration.isComplete { labels.append("*") }
        var seen: Set<String> = []
        for role in workspace.requiredRoles where seen.insert(role.name).inserted {
            if !(roles[role.name]?.isMet(for: role.wait) ?? false) { labels.append(role.name) }
        }
        return labels
    }

    /// Whether the requirement `label` (a role, or `*`) is met now, under the wait condition its requirers use.
    public func isMet(_ label: String) -> Bool {
        if label == "*" { return registration.isComplete }
        guard let role = roles[label] else { return false }
        return role.isMet(for: waitCondition(of: label))
    }

    /// `filled/expected` of a requirement label now.
    public func progress(of label: String) -> (filled: Int, expected: Int) {
        if label == "*" { return (registration.registered, registration.expected) }
        guard let role = roles[label] else { return (0, 0) }
        return (role.status.filled(for: waitCondition(of: label)), role.status.expected)
    }

    /// `waits: rabbitmq-head 0/1` for a waiting node: each unmet requirement with its live counts.
    public func waitText(of index: Int) -> String? {
        guard nodes[index].state == .waiting else { return nil }
        let labels = nodes[index].waitingOn.filter { !isMet($0) }
        guard !labels.isEmpty else { return "waits: release pending" }
        let parts = labels.map { label in
            let (filled, expected) = progress(of: label)
            return "\(RequirementLabel.display(label)) \(filled)/\(expected)"
        }
        return "waits: " + parts.joined(separator: ", ")
    }

    /// The first few providers (nodes) not yet present for a requirement label, looking at no more than
    /// ``missingScanLimit`` slots.
    public func missingProviders(of label: String, wait: WaitCondition = .registered, limit: Int) -> [String] {
        guard limit > 0 else { return [] }
        var names: [String] = []
        var scanned = 0
        let workspaceIndices = label == "*" ? Array(workspaces.indices) : (roles[label]?.providerWorkspaces ?? [])
        for workspace in workspaceIndices {
            for node in workspaces[workspace].nodes {
                scanned += 1
                if scanned > Self.missingScanLimit { return names }
                let present = wait == .ready ? nodes[node].state == .ok : nodes[node].isRegistered
                if !present {
                    names.append(nodes[node].name)
                    if names.count == limit { return names }
                }
            }
        }
        return names
    }

    /// The wait condition requirers use for a role (`ready` if any workspace waits for readiness).
    func waitCondition(of label: String) -> WaitCondition {
        readyWaitRoles.contains(label) ? .ready : .registered
    }

    /// How long the context has run: until it completed, or until `now`.
    public func elapsed(at now: Date) -> TimeInterval {
        guard let createdAt else { return 0 }
        return (completedAt ?? now).timeIntervalSince(createdAt)
    }

    /// Nodes whose agent is running: launched and not failed, killed or timed out. An `ok` node's agent stays
    /// attached (and its services run), so quitting an embedded broker stops it too.
    public var runningNodes: Int { counts.total - counts[.pending] - counts[.failed] - counts[.killed] - counts[.timedOut] }

    /// The retryable nodes of a workspace, in slot order.
    public func retryableNodes(of workspace: Int) -> [String] {
        workspaces[workspace].nodes.filter { nodes[$0].state.isRetryable }.map { nodes[$0].name }
    }
}
