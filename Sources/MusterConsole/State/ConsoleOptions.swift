import Foundation

/// How the console was started: what the operator may do and how things look.
public struct ConsoleOptions: Sendable, Hashable {
    /// Actions (launch, scale, retry, kill) are disabled (`--readonly`).
    public var readOnly: Bool
    /// Quitting stops an embedded broker (`muster up`), so `q` asks first while nodes are still running.
    public var quitStopsBroker: Bool
    /// The theme names `t` cycles through and `:theme` completes.
    public var themeNames: [String]
    /// The theme in use.
    public var themeName: String
    /// The time zone for clock times (pure code reads none of its own).
    public var timeZone: TimeZone
    /// The symbols to draw.
    public var glyphs: Glyphs
    /// The user's commands (config file hotkeys).
    public var userCommands: [UserCommand]

    /// Creates options.
    public init(
        readOnly: Bool = false,
        quitStopsBroker: Bool = false,
        themeNames: [String] = [Theme.defaultName],
        themeName: String = Theme.defaultName,
        timeZone: TimeZone = TimeZone(identifier: "UTC")!,
        glyphs: Glyphs = .unicode,
        userCommands: [UserCommand] = []
    ) {
        self.readOnly = readOnly
        self.quitStopsBroker = quitStopsBroker
        self.themeNames = themeNames
        self.themeName = themeName
        self.timeZone = timeZone
        self.glyphs = glyphs
        self.userCommands = userCommands
    }
}
