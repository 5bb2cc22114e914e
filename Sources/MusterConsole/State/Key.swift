/// A key press, as the driver decodes it.
public enum Key: Sendable, Hashable, CustomStringConvertible {
    /// A printable character.
    case character(Character)
    /// A character typed with Ctrl (`control("c")` is Ctrl-C).
    case control(Character)
    /// Arrow keys.
    case up, down, left, right
    /// Paging and jumping.
    case pageUp, pageDown, home, end
    /// Editing and navigation keys.
    case enter, escape, backspace, delete, tab, backTab
    /// Function key F`n`.
    case function(Int)

    public var description: String {
        switch self {
        case .character(" "): "Space"
        case .character(let character): String(character)
        case .control(let character): "Ctrl-\(character.uppercased())"
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .enter: "Enter"
        case .escape: "Esc"
        case .backspace: "Backspace"
        case .delete: "Delete"
        case .tab: "Tab"
        case .backTab: "Shift-Tab"
        case .function(let number): "F\(number)"
        }
    }
}

/// A mouse action at a cell.
public struct MouseEvent: Sendable, Hashable {
    /// What the mouse did.
    public enum Kind: Sendable, Hashable {
        /// Button 1 pressed or clicked.
        case click
        /// Wheel turned up (away from the user).
        case wheelUp
        /// Wheel turned down.
        case wheelDown
    }

    /// What the mouse did.
    public var kind: Kind
    /// The column.
    public var x: Int
    /// The row.
    public var y: Int

    /// Creates a mouse event.
    public init(_ kind: Kind, x: Int, y: Int) {
        self.kind = kind
        self.x = x
        self.y = y
    }
}

/// One input to the console's view state: from the terminal, or the result of an effect performed outside.
public enum ConsoleInput: Sendable, Hashable {
    /// A key press.
    case key(Key)
    /// A mouse action.
    case mouse(MouseEvent)
    /// The terminal has a new size.
    case resize(ScreenSize)
    /// An effect was carried out; the message goes to the status line and the event log.
    case actionSucceeded(String)
    /// An effect failed; the message goes to the status line (as an error) and the event log.
    case actionFailed(String)
}
