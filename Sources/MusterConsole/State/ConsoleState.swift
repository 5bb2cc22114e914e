import Foundation
import MusterCore

/// The console's view state as a pure value state machine: which view, what is selected, marked and scrolled,
/// what is being typed or confirmed.
///
/// ``handle(_:model:)`` takes one input and returns the ``ConsoleEffect``s the outside must perform; nothing
/// here reads a clock or talks to the broker, so every key sequence can be tested as plain values (completing a
/// file name lists a folder through ``PathCompleter``, which tests replace).
public struct ConsoleState: Sendable {
    /// How the console was started.
    public var options: ConsoleOptions
    /// The screen size.
    public internal(set) var screen: ScreenSize
    /// The view shown.
    public internal(set) var view: ConsoleView = .tree
    /// The view `Esc` returns to from the detail view.
    public internal(set) var returnView: ConsoleView = .tree
    /// Drawn over the view (help, confirmation, a message).
    public internal(set) var overlay: Overlay?
    /// The line being typed.
    public internal(set) var prompt: Prompt?
    /// The status line message.
    public internal(set) var status: StatusMessage?
    /// The tree's row index.
    public internal(set) var tree = TreeRows()
    /// The selected tree row.
    public internal(set) var treeSelection = TreeRow.context
    /// The first tree row shown.
    public internal(set) var treeTop = 0
    /// The detail view's state, while it is open.
    public internal(set) var detail: DetailViewState?
    /// The waits view's cursor.
    public internal(set) var waitsCursor = ListCursor()
    /// The events view's state.
    public internal(set) var events = EventsViewState()
    /// The contexts view's cursor.
    public internal(set) var contextsCursor = ListCursor()
    /// The timeline view's cursor (rows are nodes in tree order).
    public internal(set) var timelineCursor = ListCursor()
    /// Marked nodes (indices into ``ConsoleModel/nodes``): `r` and `x` act on them.
    public internal(set) var marks: Set<Int> = []
    /// The command line's history.
    public internal(set) var history = CommandHistory()
    /// Lists folders for completing file names.
    public var paths = PathCompleter.fileSystem
    var contextShown: ContextID?

    /// Creates the state for a screen.
    public init(options: ConsoleOptions, screen: ScreenSize) {
        self.options = options
        self.screen = screen
    }

    /// The layout of the screen now.
    public func layout(_ model: ConsoleModel) -> ConsoleLayout {
        ConsoleLayout(size: screen, banner: model.connection.isInterrupted)
    }

    /// The rows available to the list of the current view (the tree and timeline keep one for column headings).
    func listHeight(_ model: ConsoleModel) -> Int {
        let body = layout(model).body.count
        return view == .tree || view == .timeline || view == .contexts ? max(1, body - 1) : body
    }

    // MARK: Following the model

    /// Keeps indices, selections and follow modes in step with a model change.
    public mutating func follow(_ delta: ModelDelta, _ model: ConsoleModel) {
        if model.contextID != contextShown {
            contextShown = model.contextID
            let filter = tree.filter
            let sort = tree.sort
            let allContexts = tree.showsOtherContexts
            tree = TreeRows()
            tree.setFilter(filter, model)
            tree.setSort(sort, model)
            tree.setShowsOtherContexts(allContexts, model)
            treeSelection = .context
            treeTop = 0
            detail = nil
            marks = []
            if view == .detail { view = .tree }
            waitsCursor = ListCursor()
            timelineCursor = ListCursor()
            events = EventsViewState()
        } else {
            if let renumbered = delta.renumbered { followRemoval(renumbered) }
            tree.follow(delta, model)
        }
        if let node = detail?.node, node >= model.nodes.count {
            detail = nil
            view = .tree
        }
        if marks.contains(where: { $0 >= model.nodes.count }) { marks = marks.filter { $0 < model.nodes.count } }
        events.catchUp(model.eventLog)
        if events.follow { events.cursor.select(Int.max, count: events.count(model.eventLog), height: layout(model).body.count) }
        contextsCursor.scrollIntoView(count: model.contextSummaries.count, height: listHeight(model))
        keepTreeSelection(model)
    }

    /// Shows a view (the contexts view when the console starts without a context).
    public mutating func show(_ target: ConsoleView) {
        view = target
        detail = nil
    }

    /// Sets the command line's history (read from its file at start).
    public mutating func setHistory(_ history: CommandHistory) {
        self.history = history
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
        if let overlay { return handle(key, over: overlay, model) }
        if prompt != nil { return edit(key, model) }
        status = nil
        guard let binding = KeyMap.action(for: key, in: view, user: options.userCommands) else { return [] }
        if binding.isAction && options.readOnly {
            status = StatusMessage("read-only console: \(binding.summary) is disabled (started with --readonly)", .error)
            return []
        }
        return perform(binding.action, model)
    }

    private mutating func handle(_ key: Key, over overlay: Overlay, _ model: ConsoleModel) -> [ConsoleEffect] {
        switch overlay {
        case .confirm(let dialog):
            self.overlay = nil
            if key == .character("y") || key == .character("Y") || (dialog.effect == .quit && key == .control("c")) {
                status = nil
                if case .retryNodes = dialog.effect { marks = [] }
                if case .killNodes = dialog.effect { marks = [] }
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
        case .message(var box):
            switch key {
            case .character("j"), .down: box.scroll += 1
            case .character("k"), .up: box.scroll = max(0, box.scroll - 1)
            case .pageDown: box.scroll += max(1, listHeight(model) - 4)
            case .pageUp: box.scroll = max(0, box.scroll - max(1, listHeight(model) - 4))
            case .character("g"), .home: box.scroll = 0
            case .control("c"): return perform(.quit, model)
            default:
                self.overlay = nil
                return []
            }
            self.overlay = .message(box)
            return []
        }
    }

    mutating func perform(_ action: KeyAction, _ model: ConsoleModel) -> [ConsoleEffect] {
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
                        detail: "\(Plural.count(count, "node")) \(count == 1 ? "is" : "are") still running and will be stopped.",
                        effect: .quit
                    )
                )
                return []
            }
            return [.quit]
        case .showContexts: show(.contexts)
        case .showTree: show(.tree)
        case .showWaits: show(.waits)
        case .showEvents: show(.events)
        case .showTimeline: show(.timeline)
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
        case .shell, .copy, .user, .retry, .kill:
            return performOnNode(action, model)
        default:
            switch view {
            case .tree: return performInTree(action, model)
            case .detail: return performInDetail(action, model)
            case .waits: return performInWaits(action, model)
            case .events: performInEvents(action, model)
            case .contexts: return performInContexts(action, model)
            case .timeline: performInTimeline(action, model)
            }
        }
        return []
    }

    private mutating func back(_ model: ConsoleModel) {
        switch view {
        case .detail:
            view = returnView
            detail = nil
        case .tree:
            if !tree.filter.isEmpty {
                setTreeFilter("", model)
            } else if !marks.isEmpty {
                status = StatusMessage("\(Plural.count(marks.count, "mark")) cleared")
                marks = []
            }
        case .events:
            if !events.filter.isEmpty { events.setFilter("", model.eventLog) }
        case .waits, .timeline:
            view = .tree
        case .contexts:
            if model.hasContext { view = .tree }
        }
    }

    /// The node a node key acts on in the current view, if a node is selected.
    func selectedNode(_ model: ConsoleModel) -> Int? {
        switch view {
        case .tree:
            if case .node(let node) = treeSelection { return node }
            return nil
        case .detail:
            return detail?.node
        case .waits:
            if case .node(_, let node) = WaitsRows(model).row(at: waitsCursor.selected, model) { return node }
            return nil
        case .timeline:
            let rows = tree.shownNodes(model)
            return timelineCursor.selected < rows.count ? rows[timelineCursor.selected] : nil
        case .events, .contexts:
            return nil
        }
    }

    /// Opens a node's detail.
    mutating func open(_ node: Int) {
        if view != .detail { returnView = view }
        view = .detail
        detail = DetailViewState(node: node)
    }

    // MARK: Node actions

    private mutating func performOnNode(_ action: KeyAction, _ model: ConsoleModel) -> [ConsoleEffect] {
        if (action == .retry || action == .kill) && view != .detail && !marks.isEmpty {
            action == .retry ? confirmRetry(marked: model) : confirmKill(marked: model)
            return []
        }
        if action == .retry, view == .tree, case .workspace(let workspace) = treeSelection {
            confirmRetryAll(workspace, model)
            return []
        }
        guard let node = selectedNode(model) else {
            status = StatusMessage(action == .retry ? "select a node or a workspace to retry, or mark nodes (Space)" : "select a node first", .error)
            return []
        }
        let record = model.nodes[node]
        switch action {
        case .retry:
            confirmRetry(node, model)
        case .kill:
            confirmKill(node, model)
        case .shell:
            return [.shell(node: record.name)]
        case .user(let index):
            guard index < options.userCommands.count else { return [] }
            return [.userCommand(options.userCommands[index], node: record.name)]
        case .copy:
            if view == .detail, let detail, let line = currentOutputLine(detail, model) {
                status = StatusMessage("copied output line \(line.index + 1) of \(record.name) to the clipboard")
                return [.copy(line.text)]
            }
            guard let ip = record.ip else {
                status = StatusMessage("\(record.name) has no address yet", .error)
                return []
            }
            status = StatusMessage("copied \(ip) (\(record.name)) to the clipboard")
            return [.copy(ip)]
        default:
            break
        }
        return []
    }

    // MARK: Confirmations

    mutating func confirmRetry(_ node: Int, _ model: ConsoleModel) {
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
        if let message = record.message { detail += ": \(MessageText.oneLine(message))" }
        overlay = .confirm(ConfirmDialog(question: "Retry node \(record.name)?", detail: detail + ".", effect: .retry(node: record.name)))
    }

    mutating func confirmRetryAll(_ workspace: Int, _ model: ConsoleModel) {
        let name = model.workspaces[workspace].name
        let nodes = model.retryableNodes(of: workspace)
        guard !nodes.isEmpty else {
            status = StatusMessage("no failed, killed or timed-out nodes in \(name)", .error)
            return
        }
        let what = nodes.count == 1 ? "the failed node of \(name)" : "all \(nodes.count) failed nodes of \(name)"
        overlay = .confirm(
            ConfirmDialog(
                question: "Retry \(what)?",
                detail: "Retries " + Self.list(nodes) + ".",
                effect: .retryNodes(nodes, what: "\(Plural.count(nodes.count, "node")) of \(name)")
            )
        )
    }

    mutating func confirmKill(_ node: Int, _ model: ConsoleModel) {
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

    private mutating func confirmRetry(marked model: ConsoleModel) {
        let marked = markedNodes(model)
        let retryable = marked.filter { model.nodes[$0].state.isRetryable }.map { model.nodes[$0].name }
        guard !retryable.isEmpty else {
            status = StatusMessage("none of the \(Plural.count(marked.count, "marked node")) is failed, killed or timed out", .error)
            return
        }
        let skipped = marked.count - retryable.count
        var detail = "Retries " + Self.list(retryable) + "."
        if skipped > 0 { detail += " \(Plural.count(skipped, "marked node")) that cannot be retried \(skipped == 1 ? "is" : "are") left alone." }
        overlay = .confirm(
            ConfirmDialog(
                question: "Retry \(Plural.count(retryable.count, "marked node"))?",
                detail: detail,
                effect: .retryNodes(retryable, what: Plural.count(retryable.count, "marked node"))
            )
        )
    }

    private mutating func confirmKill(marked model: ConsoleModel) {
        let marked = markedNodes(model)
        let killable = marked.filter { model.nodes[$0].state != .killed }.map { model.nodes[$0].name }
        guard !killable.isEmpty else {
            status = StatusMessage("every marked node is already killed", .error)
            return
        }
        overlay = .confirm(
            ConfirmDialog(
                question: "Kill \(Plural.count(killable.count, "marked node"))?",
                detail: "Kills " + Self.list(killable) + ".",
                effect: .killNodes(killable, what: Plural.count(killable.count, "marked node"))
            )
        )
    }

    /// The marked nodes in tree order.
    func markedNodes(_ model: ConsoleModel) -> [Int] {
        marks.sorted { (model.nodes[$0].workspace, model.nodes[$0].slot) < (model.nodes[$1].workspace, model.nodes[$1].slot) }
    }

    /// `a, b, c` with at most 30 names, then how many more.
    static func list(_ names: [String]) -> String {
        let shown = names.prefix(30).joined(separator: ", ")
        return names.count > 30 ? shown + ", … (\(names.count) in all)" : shown
    }
}

/// Lists a folder's entries for completing file names (the real file system; tests pass their own).
public struct PathCompleter: Sendable {
    /// The entries of a folder: names, and whether each is a folder.
    public var list: @Sendable (_ folder: String) -> [(name: String, isFolder: Bool)]

    /// Creates a completer.
    public init(list: @escaping @Sendable (String) -> [(name: String, isFolder: Bool)]) {
        self.list = list
    }

    /// The real file system.
    public static let fileSystem = PathCompleter { folder in
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return entries.map { name in
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(name), isDirectory: &isFolder)
            return (name, isFolder.boolValue)
        }
    }
}
