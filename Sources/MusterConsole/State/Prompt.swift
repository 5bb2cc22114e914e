/// A line being typed at the bottom of the screen.
public struct Prompt: Sendable, Hashable {
    /// What the line is for.
    public enum Kind: Sendable, Hashable {
        /// `:` command line.
        case command
        /// `/` filter of the tree or the events.
        case filter
        /// `/` search in a node's output.
        case search
    }

    /// What the line is for.
    public var kind: Kind
    /// The text typed so far.
    public var text: String
    /// Completion candidates to list (after a Tab with several).
    public var candidates: [String] = []

    /// The character shown before the text.
    public var leader: String { kind == .command ? ":" : "/" }
}

/// A yes/no question that guards an effect; only `y` confirms.
public struct ConfirmDialog: Sendable, Hashable {
    /// The question, naming the target: `Kill node scheduler-0?`.
    public var question: String
    /// More about the target (its state, what will happen).
    public var detail: String
    /// What `y` does.
    public var effect: ConsoleEffect
}

/// A long text to read in a box: a node's whole failure message, wrapped.
public struct MessageBox: Sendable, Hashable {
    /// The box's title.
    public var title: String
    /// The text (its lines are wrapped to the box when drawn).
    public var text: String
    /// The first wrapped line shown.
    public var scroll: Int
}

/// Something drawn over the current view.
public enum Overlay: Sendable, Hashable {
    /// The key help, scrolled by `scroll` lines.
    case help(scroll: Int)
    /// A confirmation.
    case confirm(ConfirmDialog)
    /// A long text.
    case message(MessageBox)
}
