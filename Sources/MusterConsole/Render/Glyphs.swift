import MusterCore

/// The symbols the console draws: Unicode by default, ASCII for terminals without UTF-8.
public struct Glyphs: Sendable, Hashable {
    /// One symbol per node state.
    public var states: [NodeState: Character]
    /// An unfolded workspace.
    public var unfolded: Character
    /// A folded workspace.
    public var folded: Character
    /// The horizontal rule of titles.
    public var rule: Character
    /// Marks a line of standard error in the output gutter.
    public var stderr: Character
    /// Marks a line of standard output.
    public var stdout: Character
    /// Marks a line the agent wrote.
    public var agent: Character
    /// Separates header items.
    public var separator: String
    /// Marks a met requirement.
    public var met: Character
    /// The banner's warning sign.
    public var warning: String

    /// The symbol for a node state.
    public func state(_ state: NodeState) -> Character { states[state] ?? "?" }

    /// Unicode symbols (single-width).
    public static let unicode = Glyphs(
        states: [
            .pending: "·", .launching: "↑", .booted: "○", .registered: "◔", .waiting: "◌", .configuring: "◐", .ok: "✓",
            .failed: "✗", .killed: "⊘", .timedOut: "⧖",
        ],
        unfolded: "▾",
        folded: "▸",
        rule: "─",
        stderr: "┃",
        stdout: "│",
        agent: "»",
        separator: " · ",
        met: "✓",
        warning: "⚠"
    )

    /// ASCII symbols.
    public static let ascii = Glyphs(
        states: [
            .pending: ".", .launching: "^", .booted: "o", .registered: "r", .waiting: "~", .configuring: "*", .ok: "+",
            .failed: "X", .killed: "k", .timedOut: "T",
        ],
        unfolded: "v",
        folded: ">",
        rule: "-",
        stderr: "!",
        stdout: "|",
        agent: ">",
        separator: " | ",
        met: "+",
        warning: "!!"
    )
}
