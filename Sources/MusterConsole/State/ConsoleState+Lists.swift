import MusterCore

extension ConsoleState {
    // MARK: Waits

    mutating func performInWaits(_ action: KeyAction, _ model: ConsoleModel) -> [ConsoleEffect] {
        let rows = WaitsRows(model)
        let height = listHeight(model)
        switch action {
        case .open:
            guard case .node(_, let node) = rows.row(at: waitsCursor.selected, model) else {
                status = StatusMessage("select a waiting node", .error)
                break
            }
            open(node)
        default:
            waitsCursor.perform(action, count: rows.count, height: height)
        }
        return []
    }

    // MARK: Events

    mutating func performInEvents(_ action: KeyAction, _ model: ConsoleModel) {
        let count = events.count(model.eventLog)
        let height = listHeight(model)
        switch action {
        case .follow:
            events.follow.toggle()
            if events.follow { events.cursor.select(count - 1, count: count, height: height) }
            status = StatusMessage(events.follow ? "following new events" : "follow off")
            return
        case .open:
            guard let name = events.entry(at: events.cursor.selected, model.eventLog)?.node, let node = model.index(ofNode: name) else {
                status = StatusMessage("this event is not about a node", .error)
                return
            }
            open(node)
            return
        default:
            guard events.cursor.perform(action, count: count, height: height) else { return }
        }
        events.follow = count > 0 && events.cursor.selected >= count - 1
    }

    // MARK: Contexts

    mutating func performInContexts(_ action: KeyAction, _ model: ConsoleModel) -> [ConsoleEffect] {
        let count = model.contextSummaries.count
        switch action {
        case .open:
            guard contextsCursor.selected < count else {
                status = StatusMessage(
                    model.contextsKnown ? "the broker has no context: launch one with l or :launch FILE" : "asking the broker…",
                    .error
                )
                return []
            }
            let id = model.contextSummaries[contextsCursor.selected].id
            view = .tree
            if id == model.contextID { return [] }
            return [.switchContext(id)]
        case .launch:
            prompt = Prompt(kind: .command, text: "launch ")
        default:
            contextsCursor.perform(action, count: count, height: listHeight(model))
        }
        return []
    }

    // MARK: Timeline

    mutating func performInTimeline(_ action: KeyAction, _ model: ConsoleModel) {
        let rows = tree.shownNodes(model)
        switch action {
        case .open:
            guard timelineCursor.selected < rows.count else { return }
            open(rows[timelineCursor.selected])
        default:
            timelineCursor.perform(action, count: rows.count, height: listHeight(model))
        }
    }
}

extension ListCursor {
    /// Moves for a list key; returns false for any other action.
    @discardableResult
    mutating func perform(_ action: KeyAction, count: Int, height: Int) -> Bool {
        switch action {
        case .moveDown: move(by: 1, count: count, height: height)
        case .moveUp: move(by: -1, count: count, height: height)
        case .pageDown: move(by: max(1, height - 1), count: count, height: height)
        case .pageUp: move(by: -max(1, height - 1), count: count, height: height)
        case .top: select(0, count: count, height: height)
        case .bottom: select(count - 1, count: count, height: height)
        default: return false
        }
        return true
    }
}
