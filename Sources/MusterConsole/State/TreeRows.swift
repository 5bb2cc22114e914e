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
    /// Another context on the broker, folded (listed after the shown context's rows while the tree shows every
    /// context); Enter shows it.
    case otherContext(ContextID)
}

/// The rows of the workspace tree, indexed so that finding row *k*, or the row of a node, never walks the
/// nodes: O(log workspaces) without a filter or sort, O(log nodes) with one.
///
/// Without a filter each workspace contributes its header plus, when unfolded, its nodes in slot order, so a
/// prefix sum over workspaces is the whole index. With a filter or another order each workspace keeps the
/// ordered list of its matching nodes; events re-check and re-place only the nodes they touched.
public struct TreeRows: Sendable, Hashable {
    /// Folded workspaces.
    public private(set) var collapsed: Set<Int> = []
    /// The filter (see ``NodeFilter``).
    public private(set) var nodeFilter = NodeFilter("")
    /// The order of nodes within a workspace.
    public private(set) var sort = TreeSort.slot
    /// The number of rows.
    public private(set) var count = 1
    /// Whether the other contexts on the broker are listed after the shown one's rows (`C`).
    public private(set) var showsOtherContexts = false
    /// The other contexts listed, in the broker's order (empty unless ``showsOtherContexts``).
    public private(set) var otherContexts: [ContextID] = []
    /// The rows of the shown context (before the other contexts).
    private var ownCount = 1

    private var shown: [Int] = []
    private var starts: [Int] = []
    private var matches: [Int: [Int]]?
    /// How many workspaces the index covers (to notice added ones).
    private var workspaceCount = 0
    private var nodeCount = 0

    /// Creates an empty index.
    public init() {}

    /// The filter text; empty for none.
    public var filter: String { nodeFilter.text }

    /// Whether every node is listed in slot order (no per-workspace lists needed).
    private var isPlain: Bool { nodeFilter.isEmpty && sort == .slot }

    /// Rebuilds from the model: O(workspaces) without a filter, O(nodes) with one (on a new filter or structure).
    mutating func rebuild(_ model: ConsoleModel) {
        workspaceCount = model.workspaces.count
        nodeCount = model.nodes.count
        if isPlain {
            matches = nil
        } else {
            var lists: [Int: [Int]] = [:]
            for (index, node) in model.nodes.enumerated() where passes(node, model) {
                lists[node.workspace, default: []].append(index)
            }
            let sort = sort
            for key in lists.keys { lists[key]?.sort { sort.precedes(model.nodes[$0], model.nodes[$1]) } }
            matches = lists
        }
        recount(model)
    }

    /// Lists the other contexts after the shown one's rows, or stops listing them.
    mutating func setShowsOtherContexts(_ shows: Bool, _ model: ConsoleModel) {
        showsOtherContexts = shows
        followContexts(model)
    }

    /// Keeps the list of other contexts in step with the broker's (O(contexts)).
    mutating func followContexts(_ model: ConsoleModel) {
        let others = showsOtherContexts ? model.contextSummaries.map(\.id).filter { $0 != model.contextID } : []
        guard others != otherContexts else { return }
        otherContexts = others
        count = ownCount + others.count
    }

    /// Follows a model change: re-checks only the touched nodes against the filter.
    mutating func follow(_ delta: ModelDelta, _ model: ConsoleModel) {
        if showsOtherContexts { followContexts(model) }
        if delta.structureChanged || model.workspaces.count != workspaceCount || model.nodes.count != nodeCount {
            rebuild(model)
            return
        }
        guard matches != nil, !delta.touchedNodes.isEmpty else { return }
        var membershipChanged = false
        for index in Set(delta.touchedNodes) {
            let node = model.nodes[index]
            var list = matches?[node.workspace] ?? []
            var present = false
            if sort == .slot {
                let position = Self.position(of: index, in: list, model, sort: sort)
                present = position < list.count && list[position] == index
                if present { list.remove(at: position) }
            } else if let position = list.firstIndex(of: index) {
                // The node's sort key may have changed: find it by a scan, then place it anew.
                present = true
                list.remove(at: position)
            }
            let wanted = passes(node, model)
            if wanted { list.insert(index, at: Self.position(of: index, in: list, model, sort: sort)) }
            guard wanted || present else { continue }
            matches?[node.workspace] = list
            if wanted != present { membershipChanged = true }
        }
        if membershipChanged { recount(model) }
    }

    /// Sets the filter and rebuilds.
    mutating func setFilter(_ text: String, _ model: ConsoleModel) {
        nodeFilter = NodeFilter(text)
        rebuild(model)
    }

    /// Sets the order and rebuilds.
    mutating func setSort(_ order: TreeSort, _ model: ConsoleModel) {
        sort = order
        rebuild(model)
    }

    /// The nodes shown under the filter, whatever is folded, in row order.
    func shownNodes(_ model: ConsoleModel) -> [Int] {
        model.workspaces.indices.flatMap { workspace in matches.map { $0[workspace] ?? [] } ?? model.workspaces[workspace].nodes }
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
        if index >= ownCount { return .otherContext(otherContexts[index - ownCount]) }
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
        case .otherContext(let id):
            return otherContexts.firstIndex(of: id).map { ownCount + $0 }
        case .workspace(let workspace):
            guard let position = shownPosition(workspace) else { return nil }
            return starts[position]
        case .node(let node):
            guard node < model.nodes.count else { return nil }
            let workspace = model.nodes[node].workspace
            guard !collapsed.contains(workspace), let position = shownPosition(workspace) else { return nil }
            if let list = matches?[workspace] {
                let offset: Int
                if sort == .slot {
                    offset = Self.position(of: node, in: list, model, sort: sort)
                    guard offset < list.count, list[offset] == node else { return nil }
                } else {
                    guard let found = list.firstIndex(of: node) else { return nil }
                    offset = found
                }
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
            if !nodeFilter.isEmpty && nodes == 0 { continue }
            shown.append(workspace)
            starts.append(row)
            row += 1 + (collapsed.contains(workspace) ? 0 : nodes)
        }
        ownCount = row
        count = row + otherContexts.count
    }

    /// The insertion position of node `index` in a list ordered by `sort`.
    private static func position(of index: Int, in list: [Int], _ model: ConsoleModel, sort: TreeSort) -> Int {
        let node = model.nodes[index]
        var low = 0
        var high = list.count
        while low < high {
            let middle = (low + high) / 2
            if list[middle] != index && sort.precedes(model.nodes[list[middle]], node) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Whether a node passes the filter.
    private func passes(_ node: ConsoleNode, _ model: ConsoleModel) -> Bool {
        nodeFilter.isEmpty || nodeFilter.matches(node, workspace: model.workspaces[node.workspace].name)
    }
}
