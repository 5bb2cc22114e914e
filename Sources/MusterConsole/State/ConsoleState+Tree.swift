import MusterCore

extension ConsoleState {
    // MARK: Tree

    mutating func performInTree(_ action: KeyAction, _ model: ConsoleModel) -> [ConsoleEffect] {
        let height = listHeight(model)
        let row = tree.index(of: treeSelection, model) ?? 0
        switch action {
        case .moveDown: selectTreeRow(row + 1, model)
        case .moveUp: selectTreeRow(row - 1, model)
        case .pageDown: selectTreeRow(row + max(1, height - 1), model)
        case .pageUp: selectTreeRow(row - max(1, height - 1), model)
        case .top: selectTreeRow(0, model)
        case .bottom: selectTreeRow(tree.count - 1, model)
        case .open:
            switch treeSelection {
            case .context:
                let allFolded = tree.collapsed.count == model.workspaces.count
                tree.setAllCollapsed(!allFolded, model)
            case .workspace(let workspace):
                tree.setCollapsed(workspace, !tree.collapsed.contains(workspace), model)
            case .node(let node):
                open(node)
            case .otherContext(let id):
                return [.switchContext(id)]
            }
            keepTreeSelection(model)
        case .expand, .collapse:
            guard case .workspace(let workspace) = selectedWorkspaceRow(model) else { break }
            let fold = action == .collapse
            tree.setCollapsed(workspace, fold, model)
            if fold { treeSelection = .workspace(workspace) }
            keepTreeSelection(model)
        case .mark:
            toggleMark(model)
            selectTreeRow(row + 1, model)
        case .markAll:
            let shown = tree.shownNodes(model)
            if !shown.isEmpty && shown.allSatisfy(marks.contains) {
                marks.subtract(shown)
                status = StatusMessage("unmarked \(Plural.count(shown.count, "node"))")
            } else {
                marks.formUnion(shown)
                status = StatusMessage("\(Plural.count(marks.count, "node")) marked: r retries them, x kills them, Esc clears")
            }
        case .allContexts:
            tree.setShowsOtherContexts(!tree.showsOtherContexts, model)
            keepTreeSelection(model)
            if !tree.showsOtherContexts {
                status = StatusMessage("the tree shows this context only")
            } else if !model.contextsKnown {
                status = StatusMessage("asking the broker for its contexts…")
            } else {
                status = StatusMessage(
                    "the tree lists every context: \(Plural.count(tree.otherContexts.count, "other")) below this one; Enter shows one"
                )
            }
        case .sortByName: sort(by: .name, model)
        case .sortByState: sort(by: .state, model)
        case .sortByAge: sort(by: .age, model)
        case .sortByAddress: sort(by: .address, model)
        case .launch:
            prompt = Prompt(kind: .command, text: "launch ")
        case .addNodes:
            if case .workspace(let workspace) = selectedWorkspaceRow(model) {
                prompt = Prompt(kind: .command, text: "scale \(model.workspaces[workspace].name) +1")
            } else {
                prompt = Prompt(kind: .command, text: "scale ")
            }
        default:
            break
        }
        return []
    }

    private mutating func sort(by key: TreeSort.Key, _ model: ConsoleModel) {
        let order = tree.sort.next(pressing: key)
        tree.setSort(order, model)
        keepTreeSelection(model)
        status = StatusMessage(order == .slot ? "sorted by slot" : "sorted by \(order.key.rawValue)\(order.descending ? ", reversed" : "")")
    }

    /// Space: marks or unmarks the selected node, or every node of the selected workspace (or of the context).
    private mutating func toggleMark(_ model: ConsoleModel) {
        let nodes: [Int]
        switch treeSelection {
        case .context: nodes = tree.shownNodes(model)
        case .workspace(let workspace): nodes = tree.shownNodes(model).filter { model.nodes[$0].workspace == workspace }
        case .node(let node): nodes = [node]
        case .otherContext: nodes = []
        }
        guard !nodes.isEmpty else { return }
        if nodes.allSatisfy(marks.contains) {
            marks.subtract(nodes)
        } else {
            marks.formUnion(nodes)
        }
        status = marks.isEmpty ? nil : StatusMessage("\(Plural.count(marks.count, "node")) marked: r retries them, x kills them, Esc clears")
    }

    /// The workspace row of the selection (a node's own workspace for a node row).
    func selectedWorkspaceRow(_ model: ConsoleModel) -> TreeRow? {
        switch treeSelection {
        case .context, .otherContext: nil
        case .workspace: treeSelection
        case .node(let node): .workspace(model.nodes[node].workspace)
        }
    }

    mutating func selectTreeRow(_ index: Int, _ model: ConsoleModel) {
        let clamped = max(0, min(tree.count - 1, index))
        treeSelection = tree.row(at: clamped, model) ?? .context
        scrollTree(to: clamped, model)
    }

    private mutating func scrollTree(to index: Int, _ model: ConsoleModel) {
        var cursor = ListCursor()
        cursor.selected = index
        cursor.top = treeTop
        cursor.scrollIntoView(count: tree.count, height: treeHeight(model))
        treeTop = cursor.top
    }

    /// The tree's rows on screen (the body less its column headings).
    func treeHeight(_ model: ConsoleModel) -> Int { max(1, layout(model).body.count - 1) }

    /// Keeps the selection on a shown row (its workspace, or the context, when it was filtered or folded away).
    mutating func keepTreeSelection(_ model: ConsoleModel) {
        if tree.index(of: treeSelection, model) == nil {
            if case .node(let node) = treeSelection, node < model.nodes.count,
                tree.index(of: .workspace(model.nodes[node].workspace), model) != nil
            {
                treeSelection = .workspace(model.nodes[node].workspace)
            } else if tree.count > 1, let first = tree.row(at: 1, model) {
                treeSelection = first
            } else {
                treeSelection = .context
            }
        }
        scrollTree(to: tree.index(of: treeSelection, model) ?? 0, model)
    }

    mutating func setTreeFilter(_ text: String, _ model: ConsoleModel) {
        tree.setFilter(text, model)
        keepTreeSelection(model)
        timelineCursor.scrollIntoView(count: tree.shownNodes(model).count, height: listHeight(model))
        if let problem = tree.nodeFilter.problem { status = StatusMessage(problem + "; the filter shows every node", .error) }
    }
}
