/// Tab completion on the `:` command line: command names, then workspace, theme or context names.
public enum CommandCompletion {
    /// The names completion may offer for arguments.
    public struct Names: Sendable, Hashable {
        /// Workspace names (for `:scale`).
        public var workspaces: [String]
        /// Theme names (for `:theme`).
        public var themes: [String]
        /// Context ids (for `:context`).
        public var contexts: [String]

        /// Creates the names.
        public init(workspaces: [String], themes: [String], contexts: [String]) {
            self.workspaces = workspaces
            self.themes = themes
            self.contexts = contexts
        }
    }

    /// Completes the last word of `line`: a single candidate is completed with a space after it, several are
    /// completed to their longest common prefix and returned so that the console can list them.
    public static func complete(_ line: String, names: Names) -> (line: String, candidates: [String]) {
        let endsWithSpace = line.last?.isWhitespace ?? false
        var words = line.split(whereSeparator: \.isWhitespace).map(String.init)
        if endsWithSpace || words.isEmpty { words.append("") }
        let partial = words[words.count - 1]
        let pool: [String]
        if words.count == 1 {
            pool = ConsoleCommand.catalog.map(\.name)
        } else if words.count == 2 {
            switch words[0] {
            case "scale": pool = names.workspaces
            case "theme": pool = names.themes
            case "context", "ctx": pool = names.contexts
            default: pool = []
            }
        } else {
            pool = []
        }
        let candidates = pool.filter { $0.hasPrefix(partial) }
        guard !candidates.isEmpty else { return (line, []) }
        let prefix = words.dropLast().map { $0 + " " }.joined()
        if candidates.count == 1 { return (prefix + candidates[0] + " ", []) }
        return (prefix + commonPrefix(candidates), candidates)
    }

    private static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for word in words.dropFirst() {
            while !word.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }
}
