import Foundation
import MusterCore

/// One row of the workspace tree.
public enum TreeRow: Sendable, Hashable {
    /// The context itself (first row).
    case context
    /// A workspace header (index into ``ConsoleModel/workspaces``).
    case workspace(Int)
    /// A node (index into ``ConsoleModel/nodes``).
    case node(Int)
}

/// The rows of the workspace tree, indexed so that finding row *k*, or the row of a node, never walks the
/// nodes: O(log workspaces) without a filter, O(log nodes) with one.
///
/// Without a filter each workspace contributes its header plus, when unfolded, its nodes in slot order, so a
/// prefix sum over workspaces is the whole index. With a filter each workspace keeps the sorted list of its
/// matching nodes; events re-check only the nodes they touched.
public struct TreeRows: Sendable, Hashable {
    /// Folded workspaces.
    public private(set) var collapsed: Set<Int> = []
    /// The filter text (case-insensitive substring of name, address, host name or state); empty for none.
    public private(set) var filter = ""
    /// The number of rows.
    public private(set) var count = 1

    private var shown: [Int] = []
    private var starts: [Int] = []
    private var matches: [Int: [Int]]?
    /// How many workspaces the index covers (to notice added ones).
    private var workspaceCount = 0
    private var nodeCount = 0

    /// Creates an empty index.
    public init() {}

    /// Rebuilds from the model: O(workspaces) without a filter, O(nodes) with one (on a new filter or structure).
    mutating func rebuild(_ model: ConsoleModel) {
        workspaceCount = model.workspaces.count
        nodeCount = model.nodes.count
        if filter.isEmpty {
            matches = nil
        } else {
            var lists: [Int: [Int]] = [:]
            for (index, node) in model.nodes.enumerated() where Self.matches(node, filter) {
                lists[node.workspace, default: []].append(index)
            }
            for key in lists.keys { lists[key]?.sort { model.nodes[$0].slot < model.nodes[$1].slot } }
            matches = lists
        }
        recount(model)
    }

    /// Follows a model change: re-checks only the touched nodes against the filter.
    mutating func follow(_ delta: ModelDelta, _ model: ConsoleModel) {
        if delta.structureChanged || model.workspaces.count != workspaceCount || model.nodes.count != nodeCount {
            rebuild(model)
            return
        }
        guard matches != nil, !delta.touchedNodes.isEmpty else { return }
        var membershipChanged = false
        for index in delta.touchedNodes {
            let node = model.nodes[index]
            var list = matches?[node.workspace] ?? []
            let position = Self.position(of: node.slot, in: list, model)
            let present = position < list.count && list[position] == index
            let wanted = Self.matches(node, filter)
            if wanted && !present {
                list.insert(index, at: position)
            } else if !wanted && present {
                list.remove(at: position)
            } else {
                continue
            }
            matches?[node.workspace] = list
            membershipChanged = true
        }
        if membershipChanged { recount(model) }
    }

    /// Sets the filter and rebuilds.
    mutating func setFilter(_ text: String, _ model: ConsoleModel) {
        filter = text
        rebuild(model)
    }

    /// Folds or unfolds a workspace.
    mutating func setCollapsed(_ workspace: Int, _ folded: Bool, _ model: ConsoleModel) {
        if folded { collapsed.insert(workspace) } else { collapsed.remove(workspace) }
        recount(model)
    }

    /// Folds or unfolds every workspace.
    mutating func setAllCollapsed(_ folded: Bool, _ model: ConsoleModel) {
        collapsed = folded ? Set(model.workspaces.indices) : []
        recount(model)
    }

    /// The row at `index`.
    public func row(at index: Int, _ model: ConsoleModel) -> TreeRow? {
        guard index >= 0, index < count else { return nil }
        if index == 0 { return .context }
        var low = 0
        var high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= index { low = middle } else { high = middle - 1 }
        }
        let workspace = shown[low]
        let offset = index - starts[low]
        if offset == 0 { return .workspace(workspace) }
        let nodes = matches?[workspace] ?? model.workspaces[workspace].nodes
        return .node(nodes[offset - 1])
    }

    /// The index of a row, or nil when it is not shown (filtered out or folded away).
    public func index(of row: TreeRow, _ model: ConsoleModel) -> Int? {
        switch row {
        case .context:
            return 0
        case .workspace(let workspace):
            guard let position = shownPosition(workspace) else { return nil }
            return starts[position]
        case .node(let node):
            guard node < model.nodes.count else { return nil }
            let workspace = model.nodes[node].workspace
            guard !collapsed.contains(workspace), let position = shownPosition(workspace) else { return nil }
            if let list = matches?[workspace] {
                let offset = Self.position(of: model.nodes[node].slot, in: list, model)
                guard offset < list.count, list[offset] == node else { return nil }
                return starts[position] + 1 + offset
            }
            return starts[position] + 1 + model.nodes[node].slot
        }
    }

    /// How many nodes of a workspace are shown under the filter (all when there is none).
    public func shownNodeCount(of workspace: Int, _ model: ConsoleModel) -> Int {
        matches.map { $0[workspace]?.count ?? 0 } ?? model.workspaces[workspace].nodes.count
    }

    private func shownPosition(_ workspace: Int) -> Int? {
        var low = 0
        var high = shown.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if shown[middle] == workspace { return middle }
            if shown[middle] < workspace { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }

    private mutating func recount(_ model: ConsoleModel) {
        shown = []
        starts = []
        var row = 1
        for workspace in model.workspaces.indices {
            let nodes = matches.map { $0[workspace]?.count ?? 0 } ?? model.workspaces[workspace].nodes.count
            if matches != nil && nodes == 0 { continue }
            shown.append(workspace)
            starts.append(row)
            row += 1 + (collapsed.contains(workspace) ? 0 : nodes)
        }
        count = row
    }

    /// The insertion position of `slot` in a list of node indices sorted by slot.
    private static func position(of slot: Int, in list: [Int], _ model: ConsoleModel) -> Int {
        var low = 0
        var high = list.count
        while low < high {
            let middle = (low + high) / 2
            if model.nodes[list[middle]].slot < slot { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Whether a node matches a filter.
    static func matches(_ node: ConsoleNode, _ filter: String) -> Bool {
        if node.name.range(of: filter, options: .caseInsensitive) != nil { return true }
        if node.state.rawValue.range(of: filter, options: .caseInsensitive) != nil { return true }
        for identity in node.identities {
            if identity.ip.contains(filter) || identity.hostname.range(of: filter, options: .caseInsensitive) != nil { return true }
        }
        return false
    }
}
