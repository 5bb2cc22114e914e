/// A context's overall status: what Nimbus's broker exposed, plus counts by state.
public struct ContextStatus: Sendable, Hashable, Codable {
    /// Every node has finished (ok, failed, killed or timed out).
    public var complete: Bool
    /// Every node is ok.
    public var allOk: Bool
    /// At least one node failed or timed out.
    public var errorPresent: Bool
    /// Nodes whose identity is in (and not killed since).
    public var registered: Int
    /// Nodes in the context.
    public var expected: Int
    /// The context was terminated.
    public var terminated: Bool
    /// How many nodes are in each state (states with none are left out).
    public var counts: [NodeState: Int]

    /// Creates a status.
    public init(
        complete: Bool,
        allOk: Bool,
        errorPresent: Bool,
        registered: Int,
        expected: Int,
        terminated: Bool,
        counts: [NodeState: Int]
    ) {
        self.complete = complete
        self.allOk = allOk
        self.errorPresent = errorPresent
        self.registered = registered
        self.expected = expected
        self.terminated = terminated
        self.counts = counts
    }

    /// The number of nodes in `state`.
    public func count(_ state: NodeState) -> Int { counts[state] ?? 0 }
}

/// How many providers of a role are present.
public struct RoleStatus: Sendable, Hashable, Codable {
    /// The role.
    public var role: String
    /// Providers that have registered their identity.
    public var registered: Int
    /// Providers whose scripts all finished OK.
    public var ready: Int
    /// Provider slots (nodes of the workspaces that provide the role).
    public var expected: Int

    /// Creates a role status.
    public init(role: String, registered: Int, ready: Int, expected: Int) {
        self.role = role
        self.registered = registered
        self.ready = ready
        self.expected = expected
    }

    /// How many providers count as present under `wait`.
    public func filled(for wait: WaitCondition) -> Int { wait == .ready ? ready : registered }

    /// Whether every provider counts as present under `wait` (a role with no provider never does).
    public func isMet(for wait: WaitCondition) -> Bool { expected > 0 && filled(for: wait) >= expected }
}
