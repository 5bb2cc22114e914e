/// What a key does, independent of which key it is.
public enum KeyAction: Sendable, Hashable {
    case moveDown, moveUp, pageDown, pageUp, top, bottom
    case open, back, expand, collapse
    case filter, search, nextMatch, previousMatch
    case help, command, quit
    case launch, addNodes, retry, kill, saveOutput, shell, copy
    case mark, markAll, allContexts
    case sortByName, sortByState, sortByAge, sortByAddress
    case follow, wrap, nextTheme, earlierAttempt, laterAttempt, message
    case showContexts, showTree, showWaits, showEvents, showTimeline
    case user(Int)
}

/// Where a key binding applies.
public enum KeyScope: String, Sendable, Hashable, CaseIterable {
    /// Everywhere (unless a view binds the key itself).
    case global
    /// The list views: contexts, tree, waits, events and timeline.
    case lists
    /// Views whose rows are nodes: tree, waits, timeline and a node's detail.
    case nodes
    /// The contexts view.
    case contexts
    /// The workspace tree.
    case tree
    /// A node's detail and output.
    case detail
    /// The waits view.
    case waits
    /// The events view.
    case events
    /// The timeline view.
    case timeline

    /// The heading of the scope in the help overlay.
    public var title: String {
        switch self {
        case .global: "Everywhere"
        case .lists: "Lists (contexts, tree, waits, events, timeline)"
        case .nodes: "On the selected node (tree, waits, timeline, detail)"
        case .contexts: "Contexts (0)"
        case .tree: "Tree (1)"
        case .detail: "Node detail (Enter)"
        case .waits: "Waits (2)"
        case .events: "Events (3)"
        case .timeline: "Timeline (4)"
        }
    }
}

/// One key binding: the keys, what they do, and the lines the help overlay and the bottom bar show for them.
public struct KeyBinding: Sendable, Hashable {
    /// The keys (any of them).
    public var keys: [Key]
    /// What they do.
    public var action: KeyAction
    /// Where.
    public var scope: KeyScope
    /// The help text.
    public var summary: String
    /// The bottom bar's word for it, when it is worth a place there.
    public var hint: String?
    /// Whether the binding changes the cluster (disabled by `--readonly`).
    public var isAction: Bool

    init(_ keys: [Key], _ action: KeyAction, _ scope: KeyScope, _ summary: String, hint: String? = nil, isAction: Bool = false) {
        self.keys = keys
        self.action = action
        self.scope = scope
        self.summary = summary
        self.hint = hint
        self.isAction = isAction
    }

    /// The keys as the help overlay lists them: `j ↓`.
    public var keyLabel: String { keys.map(\.description).joined(separator: " ") }

    /// The first key as the bottom bar shows it: `⏎`, `esc`, `␣`.
    public var shortKey: String {
        switch keys.first {
        case .enter: "⏎"
        case .escape: "esc"
        case .character(" "): "␣"
        case .control(let character): "^" + character.uppercased()
        case let key?: key.description
        case nil: ""
        }
    }
}

/// Every key of the console, per view, in one table: key handling looks keys up here, and the help overlay and
/// each view's bottom bar list this same table, so the three cannot disagree (as in k9s).
public enum KeyMap {
    /// The table, in the order the help overlay shows it (and the bottom bar, for bindings with a hint).
    public static let bindings: [KeyBinding] = [
        KeyBinding([.character("?")], .help, .global, "show or hide this help", hint: "help"),
        KeyBinding(
            [.character(":")],
            .command,
            .global,
            "command line (:launch :scale :theme :context :contexts :save :help); ↑/↓ history, Tab completes"
        ),
        KeyBinding([.character("0")], .showContexts, .global, "every context on the broker"),
        KeyBinding([.character("1")], .showTree, .global, "workspace tree"),
        KeyBinding([.character("2")], .showWaits, .global, "waits: who waits for what"),
        KeyBinding([.character("3")], .showEvents, .global, "event log"),
        KeyBinding([.character("4")], .showTimeline, .global, "timeline: the boot over time, with its critical chain"),
        KeyBinding([.character("t")], .nextTheme, .global, "next theme"),
        KeyBinding([.escape], .back, .global, "back, close, clear the filter (then the marks)"),
        KeyBinding([.character("q"), .control("c")], .quit, .global, "quit", hint: "quit"),

        KeyBinding([.character("j"), .down], .moveDown, .lists, "next row"),
        KeyBinding([.character("k"), .up], .moveUp, .lists, "previous row"),
        KeyBinding([.pageDown, .control("f")], .pageDown, .lists, "page down"),
        KeyBinding([.pageUp, .control("b")], .pageUp, .lists, "page up"),
        KeyBinding([.character("g"), .home], .top, .lists, "first row"),
        KeyBinding([.character("G"), .end], .bottom, .lists, "last row"),
        KeyBinding([.enter], .open, .lists, "open the row (a context, a node; fold a workspace)", hint: "open"),
        KeyBinding(
            [.character("/")],
            .filter,
            .lists,
            "filter: text, /regex/, !inverse, state:failed ws:NAME ip:… host:… waits:ROLE",
            hint: "filter"
        ),

        KeyBinding([.character("s")], .shell, .nodes, "shell on the node (local root, or ssh with the collected host keys)", hint: "shell"),
        KeyBinding(
            [.character("y")],
            .copy,
            .nodes,
            "copy the node's address (in the detail: the current output line) to the clipboard",
            hint: "copy"
        ),
        KeyBinding(
            [.character("r")],
            .retry,
            .nodes,
            "retry the node, the marked nodes, or a workspace's failed nodes",
            hint: "retry",
            isAction: true
        ),
        KeyBinding([.character("x")], .kill, .nodes, "kill the node or the marked nodes", hint: "kill", isAction: true),

        KeyBinding([.character(" ")], .mark, .tree, "mark or unmark the node (on a workspace: all its nodes)", hint: "mark"),
        KeyBinding([.control("a")], .markAll, .tree, "mark every node shown (again: unmark all)"),
        KeyBinding([.character("C")], .allContexts, .tree, "list the other contexts below this one (again: hide them)"),
        KeyBinding([.right], .expand, .tree, "unfold the workspace"),
        KeyBinding([.left], .collapse, .tree, "fold the workspace"),
        KeyBinding([.character("N")], .sortByName, .tree, "sort by name (again: reverse, then slot order)", hint: "sort"),
        KeyBinding([.character("S")], .sortByState, .tree, "sort by state"),
        KeyBinding([.character("A")], .sortByAge, .tree, "sort by age (time in the state)"),
        KeyBinding([.character("I")], .sortByAddress, .tree, "sort by IP address"),
        KeyBinding([.character("l")], .launch, .tree, "launch a context from a file", hint: "launch", isAction: true),
        KeyBinding([.character("a")], .addNodes, .tree, "add nodes to the workspace (:scale WS -N removes N)", isAction: true),

        KeyBinding([.enter], .open, .contexts, "show the context", hint: "open"),

        KeyBinding([.character("j"), .down], .moveDown, .detail, "scroll the output down"),
        KeyBinding([.character("k"), .up], .moveUp, .detail, "scroll the output up"),
        KeyBinding([.pageDown, .control("f")], .pageDown, .detail, "page down"),
        KeyBinding([.pageUp, .control("b")], .pageUp, .detail, "page up"),
        KeyBinding([.character("g"), .home], .top, .detail, "first line"),
        KeyBinding([.character("G"), .end], .bottom, .detail, "last line, following"),
        KeyBinding([.character("f")], .follow, .detail, "follow new output on or off", hint: "follow"),
        KeyBinding([.character("w")], .wrap, .detail, "wrap long lines on or off", hint: "wrap"),
        KeyBinding([.character("/")], .search, .detail, "search the output", hint: "search"),
        KeyBinding([.character("n")], .nextMatch, .detail, "next match"),
        KeyBinding([.character("N")], .previousMatch, .detail, "previous match"),
        KeyBinding([.character("[")], .earlierAttempt, .detail, "the output of the attempt before (after a retry)", hint: "attempt"),
        KeyBinding([.character("]")], .laterAttempt, .detail, "the output of the attempt after, up to the latest"),
        KeyBinding([.character("m")], .message, .detail, "the whole failure message, wrapped and scrollable", hint: "message"),
        KeyBinding([.character("S")], .saveOutput, .detail, "save the output shown to NODE.log (:save FILE for another name)", hint: "save"),

        KeyBinding([.character("f")], .follow, .events, "follow new events on or off", hint: "follow"),
    ]

    /// The bindings of the user's commands (config file), in the scope of node rows.
    public static func userBindings(_ commands: [UserCommand]) -> [KeyBinding] {
        commands.enumerated().map { index, command in
            KeyBinding([command.key], .user(index), .nodes, "\(command.name): \(command.summary)")
        }
    }

    /// The action of `key` in a view: the view's own binding first, then broader ones, then global ones; the
    /// user's commands come before global bindings but after the view's own.
    public static func action(for key: Key, in view: ConsoleView, user: [UserCommand] = []) -> KeyBinding? {
        let users = userBindings(user)
        for scope in view.keyScopes {
            if let binding = bindings.first(where: { $0.scope == scope && $0.keys.contains(key) }) { return binding }
            if scope == .nodes, let binding = users.first(where: { $0.keys.contains(key) }) { return binding }
        }
        return nil
    }

    /// The bottom bar of a view: the bindings with a hint that act there, the view's own first.
    public static func hints(for view: ConsoleView) -> [KeyBinding] {
        var seen: Set<String> = []
        var result: [KeyBinding] = []
        for scope in view.keyScopes {
            for binding in bindings where binding.scope == scope && binding.hint != nil {
                if seen.insert(binding.hint!).inserted { result.append(binding) }
            }
        }
        return result
    }
}
