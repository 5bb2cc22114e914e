import MusterCore

extension ConsoleState {
    /// Nodes were removed from the model (a workspace was scaled down): marks, the selected row and the open
    /// detail view follow their nodes to their new indices, and let go of removed ones.
    mutating func followRemoval(_ renumbered: [Int?]) {
        func new(_ old: Int) -> Int? { old < renumbered.count ? renumbered[old] : nil }
        marks = Set(marks.compactMap(new))
        if case .node(let old) = treeSelection { treeSelection = new(old).map(TreeRow.node) ?? .context }
        if let old = detail?.node {
            if let index = new(old) {
                detail?.node = index
            } else {
                detail = nil
                if view == .detail { view = .tree }
            }
        }
    }
}
