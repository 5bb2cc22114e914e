/// One row of the waits view.
public enum WaitsRow: Sendable, Hashable {
    /// A requirement label (role name, or `*`) that waiting nodes wait on.
    case group(String)
    /// A node waiting on the group's label.
    case node(label: String, node: Int)
}

/// The rows of the waits view: for every unmet requirement with waiting nodes, a group header and its nodes,
/// longest waiting first. Built per frame in O(labels); finding a row is O(log labels + log nodes).
public struct WaitsRows: Sendable, Hashable {
    /// The labels shown, in order (`*` first, then role names).
    public private(set) var labels: [String] = []
    private var starts: [Int] = []
    /// The number of rows.
    public private(set) var count = 0

    /// Indexes the waits of a model.
    public init(_ model: ConsoleModel) {
        var row = 0
        for label in model.waits.labels where !model.isMet(label) {
            let members = model.waits.count(of: label)
            guard members > 0 else { continue }
            labels.append(label)
            starts.append(row)
            row += 1 + members
        }
        count = row
    }

    /// The row at `index`.
    public func row(at index: Int, _ model: ConsoleModel) -> WaitsRow? {
        guard index >= 0, index < count else { return nil }
        var low = 0
        var high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= index { low = middle } else { high = middle - 1 }
        }
        let offset = index - starts[low]
        if offset == 0 { return .group(labels[low]) }
        guard let node = model.waits.nodes(waitingOn: labels[low], from: offset - 1, limit: 1).first else { return nil }
        return .node(label: labels[low], node: node)
    }
}
