import MusterCore

/// How many nodes are in each ``NodeState``: a fixed array, so reading and updating one count is O(1).
public struct StateCounts: Sendable, Hashable {
    private var counts = Array(repeating: 0, count: NodeState.allCases.count)

    /// Creates all-zero counts.
    public init() {}

    /// Creates counts from a per-state dictionary (as in ``ContextStatus/counts``).
    public init(_ dictionary: [NodeState: Int]) {
        for (state, count) in dictionary { self[state] = count }
    }

    /// The number of nodes in `state`.
    public subscript(state: NodeState) -> Int {
        get { counts[Self.slot(state)] }
        set { counts[Self.slot(state)] = newValue }
    }

    /// The number of nodes counted.
    public var total: Int { counts.reduce(0, +) }

    /// Moves one node from one state to another.
    public mutating func move(from old: NodeState, to new: NodeState) {
        self[old] = max(0, self[old] - 1)
        self[new] += 1
    }

    /// Nodes whose state can be retried (failed, killed, timed out).
    public var retryable: Int { self[.failed] + self[.killed] + self[.timedOut] }

    /// `3/4 ok, 1 waiting`: ok out of all, then every other non-empty state in lifecycle order.
    public var summary: String {
        var parts = ["\(self[.ok])/\(total) ok"]
        for state in NodeState.allCases where state != .ok && self[state] > 0 {
            parts.append("\(self[state]) \(state.rawValue)")
        }
        return parts.joined(separator: ", ")
    }

    private static func slot(_ state: NodeState) -> Int {
        switch state {
        case .pending: 0
        case .launching: 1
        case .booted: 2
        case .registered: 3
        case .waiting: 4
        case .configuring: 5
        case .ok: 6
        case .failed: 7
        case .killed: 8
        case .timedOut: 9
        }
    }
}
