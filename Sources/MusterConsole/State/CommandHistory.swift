import Foundation

/// The lines typed on the `:` command line, newest last, for `↑`/`↓`; kept across runs in a file.
public struct CommandHistory: Sendable, Hashable {
    /// The most lines kept.
    public static let limit = 500

    /// The lines, oldest first.
    public private(set) var entries: [String]
    /// While browsing: the entry shown (an index into ``entries``); nil when typing a new line.
    private(set) var position: Int?
    /// What was typed before browsing started (given back after the newest entry).
    private var draft = ""

    /// Creates a history.
    public init(entries: [String] = []) {
        self.entries = Array(entries.suffix(Self.limit))
    }

    /// Adds a line run (not a repeat of the last one, not an empty one).
    mutating func add(_ line: String) {
        position = nil
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, entries.last != trimmed else { return }
        entries.append(trimmed)
        if entries.count > Self.limit { entries.removeFirst(entries.count - Self.limit) }
    }

    /// The line before the one shown (`↑`), given what is typed now; nil at the oldest.
    mutating func older(than typed: String) -> String? {
        guard !entries.isEmpty else { return nil }
        if position == nil { draft = typed }
        let next = (position ?? entries.count) - 1
        guard next >= 0 else { return nil }
        position = next
        return entries[next]
    }

    /// The line after the one shown (`↓`); the draft after the newest; nil when not browsing.
    mutating func newer() -> String? {
        guard let position else { return nil }
        if position + 1 < entries.count {
            self.position = position + 1
            return entries[position + 1]
        }
        self.position = nil
        return draft
    }

    /// Stops browsing (the line was edited or left).
    mutating func reset() { position = nil }

    /// Reads a history file (one line per entry); a missing or unreadable file is an empty history.
    public static func load(from path: String) -> CommandHistory {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return CommandHistory() }
        return CommandHistory(entries: text.split(separator: "\n").map(String.init))
    }

    /// Writes the history (mode 0600; the folder is created). Failing to write it is not worth an error.
    public func save(to path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let text = entries.joined(separator: "\n") + (entries.isEmpty ? "" : "\n")
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
    }

    /// The standard history file: `$XDG_STATE_HOME/muster/console-history` (else `~/.local/state/…`).
    public static func standardFile(environment: [String: String]) -> String? {
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/muster/console-history" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.local/state/muster/console-history" }
        return nil
    }
}
