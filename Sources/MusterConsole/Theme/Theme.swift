/// Colours and attributes for every ``StyleRole``, read from a theme file (see ``ThemeParser``) or built in.
public struct Theme: Sendable, Hashable {
    /// The theme's name (its file name without `.yaml`).
    public var name: String
    /// One line saying what it is for.
    public var summary: String
    /// The screen's foreground; a style's `default` foreground means this.
    public var foreground: ThemeColor
    /// The screen's background; a style's `default` background means this.
    public var background: ThemeColor
    /// What `default` foreground and background look like in SVG snapshots (a file has no terminal).
    public var previewForeground: ThemeColor
    /// See ``previewForeground``.
    public var previewBackground: ThemeColor
    private var styles: [TextStyle]

    /// Creates a theme; roles left out of `styles` look like ``StyleRole/text``.
    public init(
        name: String,
        summary: String,
        foreground: ThemeColor = .terminalDefault,
        background: ThemeColor = .terminalDefault,
        previewForeground: ThemeColor = .rgb(0xD0, 0xD0, 0xD0),
        previewBackground: ThemeColor = .rgb(0x1C, 0x1C, 0x1C),
        styles: [StyleRole: TextStyle]
    ) {
        self.name = name
        self.summary = summary
        self.foreground = foreground
        self.background = background
        self.previewForeground = previewForeground
        self.previewBackground = previewBackground
        let text = styles[.text] ?? TextStyle()
        self.styles = StyleRole.allCases.map { styles[$0] ?? text }
    }

    /// How a role looks, with `default` colours resolved to the theme's foreground and background.
    public func style(_ role: StyleRole) -> TextStyle {
        var style = styles[Int(role.rawValue)]
        if style.foreground == .terminalDefault { style.foreground = foreground }
        if style.background == .terminalDefault { style.background = background }
        return style
    }

    /// The same theme with colours removed, keeping bold, underline, reverse and dim (for `NO_COLOR`).
    public var withoutColors: Theme {
        var copy = self
        copy.styles = copy.styles.map(\.withoutColors)
        copy.foreground = .terminalDefault
        copy.background = .terminalDefault
        copy.name = name + " (monochrome)"
        return copy
    }
}

extension Theme {
    /// The name of the default theme.
    public static let defaultName = "dark"

    /// The default theme, built in so that the console always has one (equal to `Themes/dark.yaml`).
    public static let builtInDark = Theme(
        name: "dark",
        summary: "Light text on the terminal's own dark background (the default).",
        previewForeground: .rgb(0xD0, 0xD0, 0xD0),
        previewBackground: .rgb(0x1C, 0x1C, 0x1C),
        styles: [
            .text: TextStyle(),
            .dim: TextStyle(foreground: .indexed(244)),
            .accent: TextStyle(foreground: .rgb(0x5F, 0xAF, 0xFF), bold: true),
            .header: TextStyle(foreground: .rgb(0xFF, 0xFF, 0xFF), bold: true),
            .title: TextStyle(foreground: .rgb(0x5F, 0xAF, 0xFF)),
            .selection: TextStyle(foreground: .rgb(0x00, 0x00, 0x00), background: .rgb(0x5F, 0xAF, 0xFF)),
            .banner: TextStyle(foreground: .rgb(0xFF, 0xFF, 0xFF), background: .rgb(0xAF, 0x00, 0x00), bold: true),
            .stderr: TextStyle(foreground: .rgb(0xFF, 0x87, 0x87)),
            .agent: TextStyle(foreground: .indexed(244)),
            .match: TextStyle(foreground: .rgb(0x00, 0x00, 0x00), background: .rgb(0xFF, 0xD7, 0x00)),
            .error: TextStyle(foreground: .rgb(0xFF, 0x5F, 0x5F), bold: true),
            .success: TextStyle(foreground: .rgb(0x5F, 0xD7, 0x5F)),
            .dialog: TextStyle(foreground: .rgb(0xFF, 0xFF, 0xFF), background: .rgb(0x30, 0x30, 0x30)),
            .prompt: TextStyle(foreground: .rgb(0xFF, 0xD7, 0x00)),
            .pending: TextStyle(foreground: .indexed(244)),
            .launching: TextStyle(foreground: .rgb(0x5F, 0x87, 0xFF)),
            .booted: TextStyle(foreground: .rgb(0x5F, 0xAF, 0xD7)),
            .registered: TextStyle(foreground: .rgb(0x5F, 0xD7, 0xD7)),
            .waiting: TextStyle(foreground: .rgb(0xFF, 0xD7, 0x00)),
            .configuring: TextStyle(foreground: .rgb(0xAF, 0x87, 0xFF)),
            .ok: TextStyle(foreground: .rgb(0x5F, 0xD7, 0x5F)),
            .failed: TextStyle(foreground: .rgb(0xFF, 0x5F, 0x5F), bold: true),
            .killed: TextStyle(foreground: .rgb(0xD7, 0x87, 0xAF)),
            .timedOut: TextStyle(foreground: .rgb(0xFF, 0x87, 0x00), bold: true),
            .critical: TextStyle(foreground: .rgb(0xFF, 0xAF, 0x00), bold: true),
            .marked: TextStyle(foreground: .rgb(0xFF, 0x87, 0xFF), bold: true),
        ]
    )

    /// Attributes only, for terminals without colour and for `NO_COLOR`: selection and banner in reverse,
    /// errors in bold, matches underlined.
    public static let monochrome = Theme(
        name: "monochrome",
        summary: "No colours: bold, reverse and underline only.",
        previewForeground: .rgb(0xD0, 0xD0, 0xD0),
        previewBackground: .rgb(0x1C, 0x1C, 0x1C),
        styles: [
            .dim: TextStyle(dim: true),
            .accent: TextStyle(bold: true),
            .header: TextStyle(bold: true),
            .title: TextStyle(underline: true),
            .selection: TextStyle(reverse: true),
            .banner: TextStyle(bold: true, reverse: true),
            .stderr: TextStyle(bold: true),
            .agent: TextStyle(dim: true),
            .match: TextStyle(underline: true, reverse: true),
            .error: TextStyle(bold: true),
            .dialog: TextStyle(reverse: true),
            .prompt: TextStyle(bold: true),
            .pending: TextStyle(dim: true),
            .waiting: TextStyle(underline: true),
            .failed: TextStyle(bold: true),
            .timedOut: TextStyle(bold: true),
            .killed: TextStyle(dim: true),
            .critical: TextStyle(bold: true, underline: true),
            .marked: TextStyle(bold: true, reverse: true),
        ]
    )
}
