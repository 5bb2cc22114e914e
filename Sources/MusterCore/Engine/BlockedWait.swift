/// A waiting node that cannot be released unless someone acts: a provider it waits for has stopped (failed, was
/// killed or timed out) without meeting the wait. Only a retry of that provider (or a kill of the waiter) changes
/// it; until then the context cannot complete.
public struct BlockedWait: Sendable, Hashable, Codable {
    /// The waiting node.
    public var node: String
    /// What it waits for: a role name, or `*` for every node's identity.
    public var requirement: String
    /// Whether it waits for registration or readiness.
    public var wait: WaitCondition
    /// The providers that stopped without meeting the wait, with the state they are in.
    public var blockers: [Blocker]

    /// A provider that stopped.
    public struct Blocker: Sendable, Hashable, Codable {
        /// The provider.
        public var node: String
        /// Its state (`failed`, `killed` or `timed-out`).
        public var state: NodeState
        /// Its exit code, if it has one.
        public var exitCode: Int?

        /// Creates a blocker.
        public init(node: String, state: NodeState, exitCode: Int?) {
            self.node = node
            self.state = state
            self.exitCode = exitCode
        }
    }

    /// Creates a blocked wait.
    public init(node: String, requirement: String, wait: WaitCondition, blockers: [Blocker]) {
        self.node = node
        self.requirement = requirement
        self.wait = wait
        self.blockers = blockers
    }
}

extension ContextSnapshot {
    /// The waiting nodes that cannot be released without an operator's action, in node order.
    ///
    /// A registration wait is blocked by a provider that stopped before it registered; a readiness wait by a
    /// provider that stopped without becoming ok. A terminated context has nothing left to wait for.
    public var blockedWaits: [BlockedWait] {
        guard !status.terminated else { return [] }
        let waiting = nodes.filter { $0.state == .waiting }
        guard !waiting.isEmpty else { return [] }
        var byName: [String: NodeSnapshot] = [:]
        for node in nodes { byName[node.name] = node }
        var providers: [String: [NodeSnapshot]] = [:]
        for workspace in workspaces {
            let members = workspace.nodes.compactMap { byName[$0] }
            for role in Set(workspace.roles) { providers[role, default: []] += members }
        }
        var result: [BlockedWait] = []
        for node in waiting {
            for requirement in node.requirements where !requirement.isMet {
                let candidates = requirement.role.map { providers[$0] ?? [] } ?? nodes
                let blockers = candidates.filter { provider in
                    guard provider.name != node.name, provider.state.isTerminal, provider.state != .ok else { return false }
                    let registered = !provider.identities.isEmpty && provider.state != .killed
                    return requirement.wait == .ready || !registered
                }
                guard !blockers.isEmpty else { continue }
                result.append(
                    BlockedWait(
                        node: node.name,
                        requirement: requirement.role ?? "*",
                        wait: requirement.wait,
                        blockers: blockers.map { BlockedWait.Blocker(node: $0.name, state: $0.state, exitCode: $0.exitCode) }
                    )
                )
            }
        }
        return result
    }
}
