/// Waiting nodes grouped by the requirement label they wait on (a role name, or `*` for every identity), each
/// group in the order its nodes started waiting.
///
/// Kept incrementally by ``ConsoleModel``: a node joins the groups of its unmet requirements when it starts
/// waiting and leaves them when it stops, each in O(log n). A node waiting on two roles stays in both groups;
/// the waits view hides the group of a role once that role is met.
public struct WaitsIndex: Sendable, Hashable {
    private var groups: [String: OrderedMembers] = [:]

    /// Creates an empty index.
    public init() {}

    /// The labels that have (or had) waiting nodes, sorted.
    public var labels: [String] { groups.keys.filter { !(groups[$0]?.isEmpty ?? true) }.sorted() }

    /// The number of nodes waiting on `label`.
    public func count(of label: String) -> Int { groups[label]?.count ?? 0 }

    /// The nodes waiting on `label` from rank `start` (longest waiting first), at most `limit` of them.
    public func nodes(waitingOn label: String, from start: Int, limit: Int) -> [Int] {
        groups[label]?.members(from: start, limit: limit) ?? []
    }

    /// Records that `node` started waiting on `labels`.
    mutating func add(_ node: Int, labels: [String]) {
        for label in labels { groups[label, default: OrderedMembers()].append(node) }
    }

    /// Records that `node` stopped waiting on `labels`.
    mutating func remove(_ node: Int, labels: [String]) {
        for label in labels { groups[label]?.remove(node) }
    }
}
