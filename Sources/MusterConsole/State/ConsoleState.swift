import Foundation
import MusterCore

/// The console's view state as a pure value state machine: which view, what is selected and scrolled, what
/// is being typed or confirmed.
///
/// ``handle(_:model:)`` takes one input and returns the ``ConsoleEffect``s the outside must perform; nothing
/// here does I/O or reads a clock, so every key sequence can be tested as plain values.
public struct ConsoleState: Sendable {
    /// How the console was started.
    public var options: ConsoleOptions
    /// The screen size.
    public private(set) var screen: ScreenSize
    /// The view shown.
    public private(set) var view: ConsoleView = .tree
    /// The view `Esc` returns to from the detail view.
    public private(set) var returnView: ConsoleView = .tree
    /// Drawn over the view (help, confirmation).
    public private(set) var overlay: Overlay?
    /// The line being typed.
    public private(set) var prompt: Prompt?
    /// The status line message.
    public private(set) var status: StatusMessage?
    /// The tree's row index.
    public private(set) var tree = TreeRows()
    /// The selected tree row.
    public private(set) var treeSelection = TreeRow.context
    /// The first tree row shown.
    public private(set) var treeTop = 0
    /// The detail view's state, while it is open.
    public private(set) var detail: DetailViewState?
    /// The waits view's cursor.
    public private(set) var waitsCursor = ListCursor()
    /// The events view's state.
    public private(set) var events = EventsViewState()
    private var contextShown: ContextID?

    /// Creates the state for a screen.
    public init(options: ConsoleOptions, screen: ScreenSize) {
        self.options = options
        self.screen = screen
    }

    /// The layout of the screen now.
    public func layout(_ model: ConsoleModel) -> ConsoleLayout {
        ConsoleLayout(size: screen, banner: model.connection.isInterrupted)
    }

    // MARK: Following the model

    /// Keeps indices, selections and follow modes in step with a model change.
    public mutating func follow(_ delta: ModelDelta, _ model: ConsoleModel) {
        if model.contextID != contextShown {
            contextShown = model.contextID
            tree = TreeRows()
            tree.rebuild(model)
            treeSelection = .context
            treeTop = 0
            detail = nil
            if view == .detail { view = .tree }
            waitsCursor = ListCursor()
            events = EventsViewState()
        } else {
            tree.follow(delta, model)
        }
        if let node = detail?.node, node >= model.nodes.count {
            detail = nil
            view = .tree
        }
        events.catchUp(model.eventLog)
        if events.follow { events.cursor.select(Int.max, count: events.count(model.eventLog), height: listHeight(model)) }
        keepTreeSelection(model)
    }

    // MARK: Input

    /// Handles one input; returns what the outside must do.
    public mutating func handle(_ input: ConsoleInput, model: ConsoleModel) -> [ConsoleEffect] {
        switch input {
        case .key(let key):
            return handle(key, model)
        case .mouse(let event):
            return handle(event, model)
        case .resize(let size):
            screen = size
            keepTreeSelection(model)
            return []
        case .actionSucceeded(let message):
            status = StatusMessage(message, .success)
            return []
        case .actionFailed(let message):
            status = StatusMessage(message, .error)
            return []
        }
    }

    private mutating func handle(_ key: Key, _ model: ConsoleModel) -> [ConsoleEffect] {
        if let overlay {
            switch overlay {
            case .confirm(let dialog):
                self.overlay = nil
                if key == .character("y") || key == .character("Y") || (dialog.effect == .quit && key == .control("c")) {
                    status = nil
                    return [dialog.effect]
                }
                status = StatusMessage("cancelled")
                return []
            case .help(let scroll):
                switch key {
                case .character("j"), .down: self.overlay = .help(scroll: scroll + 1)
                case .character("k"), .up: self.overlay = .help(scroll: max(0, scroll - 1))
                case .pageDown: self.overlay = .help(scroll: scroll + listHeight(model))
                case .pageUp: self.overlay = .help(scroll: max(0, scroll - listHeight(model)))
                case .control("c"): return perform(.quit, model)
                default: self.overlay = nil
                }
                return []
            }
        }
        if prompt != nil { return edit(key, model) }
        status = nil
        guard let binding = KeyMap.action(for: key, in: view) else { return [] }
        if binding.isAction && options.readOnly {
            status = StatusMessage("read-only console: \(binding.summary) is disabled (started with --readonly)", .error)
            return []
        }
        return perform(binding.action, model)
    }

    private mutating func perform(_ action: KeyAction, _ model: ConsoleModel) -> [ConsoleEffect] {
        switch action {
        case .help:
            overlay = .help(scroll: 0)
        case .command:
            prompt = Prompt(kind: .command, text: "")
        case .quit:
            if options.quitStopsBroker && model.runningNodes > 0 {
                let count = model.runningNodes
                overlay = .confirm(
                    ConfirmDialog(
                        question: "Quit and stop the embedded broker?",
                        detail: "\(count) node\(count == 1 ? " is" : "s are") still running and will be stopped.",
                        effect: .quit
                    )
                )
                return []
            }
            return [.quit]
        case .showTree: show(.tree)
        case .showWaits: show(.waits)
        case .showEvents: show(.events)
        case .nextTheme:
            let names = options.themeNames.isEmpty ? [Theme.defaultName] : options.themeNames
            let next = names[((names.firstIndex(of: options.themeName) ?? -1) + 1) % names.count]
            options.themeName = next
            status = StatusMessage("theme \(next)")
            return [.setTheme(next)]
        case .back:
            back(model)
        case .filter:
            let current = view == .events ? events.filter : tree.filter
            prompt = Prompt(kind: .filter, text: current)
        case .search:
            prompt = Prompt(kind: .search, text: detail?.search ?? "")
        default:
            switch view {
            case .tree: return performInTree(action, model)
            case .detail: return performInDetail(action, model)
            case .waits: return performInWaits(action, model)
            case .events: performInEvents(action, model)
            }
        }
        return []
    }

    private mutating func show(_ target: ConsoleView) {
        view = target
        detail = nil
    }

    private mutating func back(_ model: ConsoleModel) {
        switch view {
        case .detail:
            view = returnView
            detail = nil
        case .tree:
            if !tree.filter.isEmpty { setTreeFilter("", model) }
        case .events:
            if !events.filter.isEmpty { events.setFilter("", model.eventLog) }
        case .waits:
            view = .tree
        }
    }

    // MARK: Tree

    private mutating func performInTree(_ action: KeyAction, _ model: ConsoleModel) -> [ConsoleEffect] {
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
            }
            keepTreeSelection(model)
        case .toggleExpand, .expand, .collapse:
            guard case .workspace(let workspace) = selectedWorkspaceRow(model) else { break }
            let fold = action == .collapse || (action == .toggleExpand && !tree.collapsed.contains(workspace))
            tree.setCollapsed(workspace, fold, model)
            if fold { treeSelection = .workspace(workspace) }
            keepTreeSelection(model)
        case .launch:
            prompt = Prompt(kind: .command, text: "launch ")
        case .addNodes:
            if case .workspace(let workspace) = selectedWorkspaceRow(model) {
                prompt = Prompt(kind: .command, text: "scale \(model.workspaces[workspace].name) +1")
            } else {
                prompt = Prompt(kind: .command, text: "scale ")
            }
        case .retry:
            switch treeSelection {
            case .context: status = StatusMessage("select a workspace or a node to retry", .error)
            case .workspace(let workspace): confirmRetryAll(workspace, model)
            case .node(let node): confirmRetry(node, model)
            }
        case .kill:
            if case .node(let node) = treeSelection {
                confirmKill(node, model)
            } else {
                status = StatusMessage("select a node to kill", .error)
            }
        default:
            break
        }
        return []
    }

    /// The workspace row of the selection (a node's own workspace for a node row).
    private func selectedWorkspaceRow(_ model: ConsoleModel) -> TreeRow? {
        switch treeSelection {
        case .context: nil
        case .workspace: treeSelection
        case .node(let node): .workspace(model.nodes[node].workspace)
        }
    }

    private mutating func selectTreeRow(_ index: Int, _ model: ConsoleModel) {
        let clamped = max(0, min(tree.count - 1, index))
        treeSelection = tree.row(at: clamped, model) ?? .context
        scrollTree(to: clamped, model)
    }

    private mutating func scrollTree(to index: Int, _ model: ConsoleModel) {
        var cursor = ListCursor()
        cursor.selected = index
        cursor.top = treeTop
        cursor.scrollIntoView(count: tree.count, height: listHeight(model))
        treeTop = cursor.top
    }

    /// Keeps the selection on a shown row (its workspace, or the context, when it was filtered or folded away).
    private mutating func keepTreeSelection(_ model: ConsoleModel) {
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

    private mutating func setTreeFilter(_ text: String, _ model: ConsoleModel) {
        tree.setFilter(text, model)
        keepTreeSelection(model)
    }

    private mutating func open(_ node: Int) {
        if view != .detail { returnView = view }
        view = .detail
        detail = DetailViewState(node: node)
    }

    // MARK: Confirmations

    private mutating func confirmRetry(_ node: Int, _ model: ConsoleModel) {
        let record = model.nodes[node]
        guard record.state.isRetryable else {
            status = StatusMessage(
                "\(record.name) is \(record.state.rawValue): only failed, killed or timed-out nodes can be retried",
                .error
            )
            return
        }
        var detail = "It is \(record.state.rawValue)"
        if let code = record.exitCode { detail += " (exit \(code))" }
        if let message = record.message { detail += ": \(message)" }
        overlay = .confirm(ConfirmDialog(question: "Retry node \(record.name)?", detail: detail + ".", effect: .retry(node: record.name)))
    }

    private mutating func confirmRetryAll(_ workspace: Int, _ model: ConsoleModel) {
        let name = model.workspaces[workspace].name
        let nodes = model.retryableNodes(of: workspace)
        guard !nodes.isEmpty else {
            status = StatusMessage("no failed, killed or timed-out nodes in \(name)", .error)
            return
        }
        let shown = nodes.prefix(3).joined(separator: ", ") + (nodes.count > 3 ? ", … (\(nodes.count) in all)" : "")
        overlay = .confirm(
            ConfirmDialog(
                question: "Retry all \(nodes.count) failed node\(nodes.count == 1 ? "" : "s") of \(name)?",
                detail: "Retries \(shown).",
                effect: .retryFailed(workspace: name, nodes: nodes)
            )
        )
    }

    private mutating func confirmKill(_ node: Int, _ model: ConsoleModel) {
        let record = model.nodes[node]
        guard record.state != .killed else {
            status = StatusMessage("\(record.name) is already killed", .error)
            return
        }
        overlay = .confirm(
            ConfirmDialog(
                question: "Kill node \(record.name)?",
                detail: "It is \(record.state.rawValue); killing stops its process or VM.",
                effect: .kill(node: record.name)
            )
        )
    }

    // MARK: Detail

    private mutating func performInDetail(_ action: KeyAction, _ model: ConsoleModel) -> [ConsoleEffect] {
        guard var detail, detail.node < model.nodes.count else { return [] }
        let pane = outputPane(detail, model)
        let height = outputHeight(detail.node, model)
        let currentTop = detail.follow ? pane.followTop(height: height) : detail.top
        func scroll(_ delta: Int) {
            let bottom = pane.followTop(height: height)
            let target = max(pane.first, min(currentTop + delta, bottom))
            detail.follow = target >= bottom && delta > 0
            detail.top = target
        }
        switch action {
        case .moveDown: scroll(1)
        case .moveUp: scroll(-1)
        case .pageDown: scroll(max(1, height - 1))
        case .pageUp: scroll(-max(1, height - 1))
        case .top:
            detail.follow = false
            detail.top = pane.first
        case .bottom:
            detail.follow = true
        case .follow:
            detail.follow.toggle()
            detail.top = currentTop
            status = StatusMessage(detail.follow ? "following new output" : "follow off")
        case .wrap:
            detail.wrap.toggle()
            status = StatusMessage(detail.wrap ? "wrapping long lines" : "wrap off")
        case .nextMatch, .previousMatch:
            self.detail = detail
            findMatch(forward: action == .nextMatch, model)
            return []
        case .saveOutput:
            let name = model.nodes[detail.node].name
            return [.saveOutput(node: name, path: "\(name).log")]
        case .retry:
            confirmRetry(detail.node, model)
        case .kill:
            confirmKill(detail.node, model)
        default:
            break
        }
        self.detail = detail
        return []
    }

    /// The output pane of the open node at the current screen size.
    func outputPane(_ detail: DetailViewState, _ model: ConsoleModel) -> OutputPane {
        OutputPane(lines: model.output(of: detail.node), width: screen.width - OutputPane.gutterWidth, wrap: detail.wrap)
    }

    /// The rows of the output pane for a node.
    func outputHeight(_ node: Int, _ model: ConsoleModel) -> Int {
        DetailLayout(model: model, node: node, body: layout(model).body, options: options).output.count
    }

    private mutating func findMatch(forward: Bool, _ model: ConsoleModel) {
        guard var detail, let query = detail.search, !query.isEmpty else {
            status = StatusMessage("no search yet: type / and a word", .error)
            return
        }
        let pane = outputPane(detail, model)
        guard pane.end > pane.first else {
            status = StatusMessage("no output to search", .error)
            return
        }
        let count = pane.end - pane.first
        let height = outputHeight(detail.node, model)
        let start = detail.match ?? (forward ? (detail.follow ? pane.followTop(height: height) : detail.top) - 1 : pane.end)
        for step in 1...count {
            let offset = forward ? start + step : start - step
            let position = pane.first + ((offset - pane.first) % count + count) % count
            guard let line = pane.lines.element(atAbsolute: position), line.text.range(of: query, options: .caseInsensitive) != nil else {
                continue
            }
            detail.match = position
            detail.follow = false
            detail.top = max(pane.first, min(position - height / 3, pane.followTop(height: height)))
            status = StatusMessage("/\(query): line \(position + 1)")
            self.detail = detail
            return
        }
        detail.match = nil
        self.detail = detail
        status = StatusMessage("no match for '\(query)'", .error)
    }

    // MARK: Waits and events

    private mutating func performInWaits(_ action: KeyAction, _ model: ConsoleModel) -> [ConsoleEffect] {
        let rows = WaitsRows(model)
        let height = listHeight(model)
        switch action {
        case .moveDown: waitsCursor.move(by: 1, count: rows.count, height: height)
        case .moveUp: waitsCursor.move(by: -1, count: rows.count, height: height)
        case .pageDown: waitsCursor.move(by: max(1, height - 1), count: rows.count, height: height)
        case .pageUp: waitsCursor.move(by: -max(1, height - 1), count: rows.count, height: height)
        case .top: waitsCursor.select(0, count: rows.count, height: height)
        case .bottom: waitsCursor.select(rows.count - 1, count: rows.count, height: height)
        case .open, .retry, .kill:
            guard case .node(_, let node) = rows.row(at: waitsCursor.selected, model) else {
                status = StatusMessage("select a waiting node", .error)
                break
            }
            if action == .open { open(node) } else if action == .retry { confirmRetry(node, model) } else { confirmKill(node, model) }
        default:
            break
        }
        return []
    }

    private mutating func performInEvents(_ action: KeyAction, _ model: ConsoleModel) {
        let count = events.count(model.eventLog)
        let height = listHeight(model)
        switch action {
        case .moveDown: events.cursor.move(by: 1, count: count, height: height)
        case .moveUp: events.cursor.move(by: -1, count: count, height: height)
        case .pageDown: events.cursor.move(by: max(1, height - 1), count: count, height: height)
        case .pageUp: events.cursor.move(by: -max(1, height - 1), count: count, height: height)
        case .top: events.cursor.select(0, count: count, height: height)
        case .bottom: events.cursor.select(count - 1, count: count, height: height)
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
            return
        }
        events.follow = count > 0 && events.cursor.selected >= count - 1
    }

    /// The rows available to a list view.
    func listHeight(_ model: ConsoleModel) -> Int { layout(model).body.count }

    // MARK: Typing

    private mutating func edit(_ key: Key, _ model: ConsoleModel) -> [ConsoleEffect] {
        guard var prompt else { return [] }
        switch key {
        case .escape, .control("c"):
            self.prompt = nil
            if prompt.kind == .filter { applyFilter("", model) }
            return []
        case .enter:
            self.prompt = nil
            return submit(prompt, model)
        case .backspace, .delete:
            if prompt.text.isEmpty {
                self.prompt = nil
                return []
            }
            prompt.text.removeLast()
        case .control("u"):
            prompt.text = ""
        case .tab where prompt.kind == .command:
            let names = CommandCompletion.Names(
                workspaces: model.workspaces.map(\.name),
                themes: options.themeNames,
                contexts: model.knownContexts.map(\.rawValue)
            )
            let completion = CommandCompletion.complete(prompt.text, names: names)
            prompt.text = completion.line
            prompt.candidates = completion.candidates
            self.prompt = prompt
            return []
        case .character(let character):
            prompt.text.append(character)
        default:
            return []
        }
        prompt.candidates = []
        self.prompt = prompt
        if prompt.kind == .filter { applyFilter(prompt.text, model) }
        return []
    }

    private mutating func applyFilter(_ text: String, _ model: ConsoleModel) {
        if view == .events {
            events.setFilter(text, model.eventLog)
            events.cursor.select(Int.max, count: events.count(model.eventLog), height: listHeight(model))
        } else {
            if view != .tree { show(.tree) }
            setTreeFilter(text, model)
        }
    }

    private mutating func submit(_ prompt: Prompt, _ model: ConsoleModel) -> [ConsoleEffect] {
        switch prompt.kind {
        case .filter:
            applyFilter(prompt.text, model)
            return []
        case .search:
            guard var detail else { return [] }
            detail.search = prompt.text.isEmpty ? nil : prompt.text
            detail.match = nil
            self.detail = detail
            if !prompt.text.isEmpty { findMatch(forward: true, model) }
            return []
        case .command:
            switch ConsoleCommand.parse(prompt.text) {
            case .failure(let error):
                status = StatusMessage(error.message, .error)
                return []
            case .success(let command):
                return run(command, model)
            }
        }
    }

    private mutating func run(_ command: ConsoleCommand, _ model: ConsoleModel) -> [ConsoleEffect] {
        func refuseIfReadOnly(_ what: String) -> Bool {
            if options.readOnly { status = StatusMessage("read-only console: \(what) is disabled (started with --readonly)", .error) }
            return options.readOnly
        }
        switch command {
        case .launch(let path):
            return refuseIfReadOnly(":launch") ? [] : [.launch(path: path)]
        case .scale(let workspace, let count):
            if refuseIfReadOnly(":scale") { return [] }
            guard model.index(ofWorkspace: workspace) != nil else {
                let known = model.workspaces.map(\.name).joined(separator: ", ")
                status = StatusMessage("no workspace '\(workspace)' (workspaces: \(known))", .error)
                return []
            }
            return [.addNodes(workspace: workspace, count: count)]
        case .theme(let name):
            guard options.themeNames.contains(name) else {
                status = StatusMessage("no theme '\(name)' (themes: \(options.themeNames.joined(separator: ", ")))", .error)
                return []
            }
            options.themeName = name
            return [.setTheme(name)]
        case .context(let id):
            return [.switchContext(ContextID(id))]
        case .save(let path):
            guard let detail else {
                status = StatusMessage(":save works in a node's detail (Enter on a node)", .error)
                return []
            }
            let name = model.nodes[detail.node].name
            return [.saveOutput(node: name, path: path ?? "\(name).log")]
        case .show(let target):
            show(target)
            return []
        case .help:
            overlay = .help(scroll: 0)
            return []
        case .quit:
            return perform(.quit, model)
        }
    }

    // MARK: Mouse

    private mutating func handle(_ event: MouseEvent, _ model: ConsoleModel) -> [ConsoleEffect] {
        guard overlay == nil, prompt == nil else { return [] }
        let layout = layout(model)
        switch event.kind {
        case .wheelUp, .wheelDown:
            let delta = event.kind == .wheelUp ? -3 : 3
            if view == .detail {
                for _ in 0..<abs(delta) { _ = performInDetail(delta < 0 ? .moveUp : .moveDown, model) }
            } else {
                for _ in 0..<abs(delta) { _ = perform(delta < 0 ? .moveUp : .moveDown, model) }
            }
            return []
        case .click:
            guard layout.body.contains(event.y) else { return [] }
            let offset = event.y - layout.body.lowerBound
            switch view {
            case .tree:
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
            case .detail:
                break
            }
            return []
        }
    }
}
