/// How one ``StyleRole`` looks: colours and attributes.
public struct TextStyle: Sendable, Hashable {
    /// Foreground colour.
    public var foreground: ThemeColor
    /// Background colour.
    public var background: ThemeColor
    /// Bold text.
    public var bold: Bool
    /// Underlined text.
    public var underline: Bool
    /// Foreground and background swapped.
    public var reverse: Bool
    /// Faint text.
    public var dim: Bool

    /// Creates a style.
    public init(
        foreground: ThemeColor = .terminalDefault,
        background: ThemeColor = .terminalDefault,
        bold: Bool = false,
        underline: Bool = false,
        reverse: Bool = false,
        dim: Bool = false
    ) {
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.underline = underline
        self.reverse = reverse
        self.dim = dim
    }

    /// The same attributes without colours (for monochrome terminals).
    public var withoutColors: TextStyle {
        TextStyle(bold: bold, underline: underline, reverse: reverse, dim: dim)
    }
}
