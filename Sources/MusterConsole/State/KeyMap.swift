/// What a key does, independent of which key it is.
public enum KeyAction: Sendable, Hashable {
    case moveDown, moveUp, pageDown, pageUp, top, bottom
    case open, back, expand, collapse, toggleExpand
    case filter, search, nextMatch, previousMatch
    case help, command, quit
    case launch, addNodes, retry, kill, saveOutput
    case follow, wrap, nextTheme
    case showTree, showWaits, showEvents
}

/// Where a key binding applies.
public enum KeyScope: String, Sendable, Hashable, CaseIterable {
    /// Everywhere (unless a view binds the key itself).
    case global
    /// The list views: tree, waits and events.
    case lists
    /// The workspace tree.
    case tree
    /// A node's detail and output.
    case detail
    /// The waits view.
    case waits
    /// The events view.
    case events

    /// The heading of the scope in the help overlay.
    public var title: String {
        switch self {
        case .global: "Everywhere"
        case .lists: "Lists (tree, waits, events)"
        case .tree: "Tree"
        case .detail: "Node detail"
        case .waits: "Waits"
        case .events: "Events"
        }
    }
}

/// One key binding: the keys, what they do, and the line the help overlay shows for them.
public struct KeyBinding: Sendable, Hashable {
    /// The keys (any of them).
    public var keys: [Key]
    /// What they do.
    public var action: KeyAction
    /// Where.
    public var scope: KeyScope
    /// The help text.
    public var summary: String
    /// Whether the binding changes the cluster (disabled by `--readonly`).
    public var isAction: Bool

    init(_ keys: [Key], _ action: KeyAction, _ scope: KeyScope, _ summary: String, isAction: Bool = false) {
        self.keys = keys
        self.action = action
        self.scope = scope
        self.summary = summary
        self.isAction = isAction
    }

    /// The keys as the help overlay lists them: `j ↓`.
    public var keyLabel: String { keys.map(\.description).joined(separator: " ") }
}

/// Every key of the console, per view, in one table: key handling looks keys up here and the help overlay lists
/// this same table, so the two cannot disagree (as in k9s).
public enum KeyMap {
    /// The table, in the order the help overlay shows it.
    public static let bindings: [KeyBinding] = [
        KeyBinding([.character("?")], .help, .global, "show or hide this help"),
        KeyBinding([.character(":")], .command, .global, "command line (:launch :scale :theme :context :save :help)"),
        KeyBinding([.character("1")], .showTree, .global, "workspace tree"),
        KeyBinding([.character("2")], .showWaits, .global, "waits: who waits for what"),
        KeyBinding([.character("3")], .showEvents, .global, "event log"),
        KeyBinding([.character("t")], .nextTheme, .global, "next theme"),
        KeyBinding([.escape], .back, .global, "back, close, clear the filter"),
        KeyBinding([.character("q"), .control("c")], .quit, .global, "quit"),

        KeyBinding([.character("j"), .down], .moveDown, .lists, "next row"),
        KeyBinding([.character("k"), .up], .moveUp, .lists, "previous row"),
        KeyBinding([.pageDown, .control("f")], .pageDown, .lists, "page down"),
        KeyBinding([.pageUp, .control("b")], .pageUp, .lists, "page up"),
        KeyBinding([.character("g"), .home], .top, .lists, "first row"),
        KeyBinding([.character("G"), .end], .bottom, .lists, "last row"),
        KeyBinding([.enter], .open, .lists, "open the node (or fold a workspace)"),
        KeyBinding([.character("/")], .filter, .lists, "filter rows"),

        KeyBinding([.character(" ")], .toggleExpand, .tree, "fold or unfold a workspace"),
        KeyBinding([.right], .expand, .tree, "unfold"),
        KeyBinding([.left], .collapse, .tree, "fold"),
        KeyBinding([.character("l")], .launch, .tree, "launch a context from a file", isAction: true),
        KeyBinding([.character("a")], .addNodes, .tree, "add nodes to the workspace", isAction: true),
        KeyBinding([.character("r")], .retry, .tree, "retry the node (all failed nodes on a workspace)", isAction: true),
        KeyBinding([.character("x")], .kill, .tree, "kill the node", isAction: true),

        KeyBinding([.character("j"), .down], .moveDown, .detail, "scroll the output down"),
        KeyBinding([.character("k"), .up], .moveUp, .detail, "scroll the output up"),
        KeyBinding([.pageDown, .control("f")], .pageDown, .detail, "page down"),
        KeyBinding([.pageUp, .control("b")], .pageUp, .detail, "page up"),
        KeyBinding([.character("g"), .home], .top, .detail, "first line"),
        KeyBinding([.character("G"), .end], .bottom, .detail, "last line, following"),
        KeyBinding([.character("f")], .follow, .detail, "follow new output on or off"),
        KeyBinding([.character("w")], .wrap, .detail, "wrap long lines on or off"),
        KeyBinding([.character("/")], .search, .detail, "search the output"),
        KeyBinding([.character("n")], .nextMatch, .detail, "next match"),
        KeyBinding([.character("N")], .previousMatch, .detail, "previous match"),
        KeyBinding([.character("s")], .saveOutput, .detail, "save the output to NODE.log"),
        KeyBinding([.character("r")], .retry, .detail, "retry the node", isAction: true),
        KeyBinding([.character("x")], .kill, .detail, "kill the node", isAction: true),

        KeyBinding([.character("r")], .retry, .waits, "retry the node", isAction: true),
        KeyBinding([.character("x")], .kill, .waits, "kill the node", isAction: true),

        KeyBinding([.character("f")], .follow, .events, "follow new events on or off"),
    ]

    /// The action of `key` in a view: the view's own binding first, then the list bindings, then global ones.
    public static func action(for key: Key, in view: ConsoleView) -> KeyBinding? {
        for scope in view.keyScopes {
            if let binding = bindings.first(where: { $0.scope == scope && $0.keys.contains(key) }) { return binding }
        }
        return nil
    }
}
