import MusterCore

extension ConsoleState {
    // MARK: Mouse

    /// What the mouse does, for the help overlay.
    public static let mouseHelp: [(String, String)] = [
        ("click", "select a row; a second click opens it (a node, a context)"),
        ("click a tab", "switch view (0 contexts, 1 tree, 2 waits, 3 events, 4 timeline)"),
        ("click a heading", "sort the tree by that column (again: reverse, then slot order)"),
        ("wheel", "scroll the list, the output or this help"),
    ]

    mutating func handle(_ event: MouseEvent, _ model: ConsoleModel) -> [ConsoleEffect] {
        if case .help(let scroll) = overlay, event.kind != .click {
            overlay = .help(scroll: max(0, scroll + (event.kind == .wheelUp ? -3 : 3)))
            return []
        }
        if case .message(var box) = overlay, event.kind != .click {
            box.scroll = max(0, box.scroll + (event.kind == .wheelUp ? -3 : 3))
            overlay = .message(box)
            return []
        }
        guard overlay == nil, prompt == nil else { return [] }
        let layout = layout(model)
        switch event.kind {
        case .wheelUp, .wheelDown:
            let action: KeyAction = event.kind == .wheelUp ? .moveUp : .moveDown
            for _ in 0..<3 { _ = perform(action, model) }
            return []
        case .click:
            if event.y == layout.title, let target = TitleTabs.view(at: event.x) {
                show(target)
                return []
            }
            guard layout.body.contains(event.y) else { return [] }
            var offset = event.y - layout.body.lowerBound
            switch view {
            case .tree:
                if offset == 0 {
                    if let key = TreeColumns.sortKey(at: event.x, model: model, width: screen.width) { return perform(key, model) }
                    return []
                }
                offset -= 1
                let index = treeTop + offset
                guard index < tree.count else { return [] }
                if tree.index(of: treeSelection, model) == index { return perform(.open, model) }
                selectTreeRow(index, model)
            case .waits:
                let index = waitsCursor.top + offset
                guard index < WaitsRows(model).count else { return [] }
                if waitsCursor.selected == index { return perform(.open, model) }
                waitsCursor.select(index, count: WaitsRows(model).count, height: layout.body.count)
            case .events:
                let index = events.cursor.top + offset
                guard index < events.count(model.eventLog) else { return [] }
                if events.cursor.selected == index { return perform(.open, model) }
                events.cursor.select(index, count: events.count(model.eventLog), height: layout.body.count)
                events.follow = false
            case .contexts, .timeline:
                guard offset > 0 else { return [] }
                var cursor = view == .contexts ? contextsCursor : timelineCursor
                let count = view == .contexts ? model.contextSummaries.count : tree.shownNodes(model).count
                let index = cursor.top + offset - 1
                guard index < count else { return [] }
                if cursor.selected == index { return perform(.open, model) }
                cursor.select(index, count: count, height: listHeight(model))
                if view == .contexts { contextsCursor = cursor } else { timelineCursor = cursor }
            case .detail:
                break
            }
            return []
        }
    }
}

/// Where the view tabs are on the title row (the renderer draws them from the same table).
enum TitleTabs {
    static let tabs: [(label: String, view: ConsoleView)] = [
        ("0 contexts", .contexts), ("1 tree", .tree), ("2 waits", .waits), ("3 events", .events), ("4 timeline", .timeline),
    ]

    /// The view whose tab is at column `x`.
    static func view(at x: Int) -> ConsoleView? {
        var column = 1
        for tab in tabs {
            let width = tab.label.count + 2
            if x >= column && x < column + width { return tab.view }
            column += width + 1
        }
        return nil
    }
}
