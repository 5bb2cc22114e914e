import Foundation

/// Tab completion on the `:` command line: command names, then file paths (`:launch`, `:save`), workspace,
/// theme, context or node (`:node`) names.
public enum CommandCompletion {
    /// The names completion may offer for arguments.
    public struct Names: Sendable, Hashable {
        /// Workspace names (for `:scale`).
        public var workspaces: [String]
        /// Theme names (for `:theme`).
        public var themes: [String]
        /// Context ids (for `:context`).
        public var contexts: [String]
        /// Node names (for `:node`).
        public var nodes: [String]

        /// Creates the names.
        public init(workspaces: [String], themes: [String], contexts: [String], nodes: [String] = []) {
            self.workspaces = workspaces
            self.themes = themes
            self.contexts = contexts
            self.nodes = nodes
        }
    }

    /// Completes the last word of `line`: a single candidate is completed (with a space after it, or nothing
    /// after a folder, so that Tab goes on into it); several are completed to their longest common prefix and
    /// returned so that the console can list them. An empty word with several candidates only lists them.
    public static func complete(_ line: String, names: Names, paths: PathCompleter = .fileSystem) -> (line: String, candidates: [String]) {
        let endsWithSpace = line.last?.isWhitespace ?? false
        var words = line.split(whereSeparator: \.isWhitespace).map(String.init)
        if endsWithSpace || words.isEmpty { words.append("") }
        let partial = words[words.count - 1]
        let prefix = words.dropLast().map { $0 + " " }.joined()
        if words.count == 2 && (words[0] == "launch" || words[0] == "save") {
            return completePath(partial, prefix: prefix, paths: paths, xmlOnly: words[0] == "launch")
        }
        let pool: [String]
        if words.count == 1 {
            pool = ConsoleCommand.catalog.map(\.name)
        } else if words.count == 2 {
            switch words[0] {
            case "scale": pool = names.workspaces
            case "theme": pool = names.themes
            case "context", "ctx": pool = names.contexts
            case "node": pool = names.nodes
            default: pool = []
            }
        } else {
            pool = []
        }
        let candidates = pool.filter { $0.hasPrefix(partial) }
        guard !candidates.isEmpty else { return (line, []) }
        if candidates.count == 1 { return (prefix + candidates[0] + " ", []) }
        return (prefix + commonPrefix(candidates), candidates)
    }

    /// Completes a file path: the folder part as typed (`~` is the home folder), the rest from the folder's
    /// entries; hidden entries only when the partial name starts with a dot. For `:launch`, files other than
    /// `.xml` are left out (folders stay).
    static func completePath(_ partial: String, prefix: String, paths: PathCompleter, xmlOnly: Bool) -> (line: String, candidates: [String]) {
        let slash = partial.lastIndex(of: "/")
        let folderPart = slash.map { String(partial[...$0]) } ?? ""
        let namePart = slash.map { String(partial[partial.index(after: $0)...]) } ?? partial
        var folder = folderPart.isEmpty ? "." : folderPart
        if folder.hasPrefix("~"), let home = ProcessInfo.processInfo.environment["HOME"] { folder = home + folder.dropFirst() }
        let entries = paths.list(folder)
            .filter { $0.name.hasPrefix(namePart) && (namePart.hasPrefix(".") || !$0.name.hasPrefix(".")) }
            .filter { !xmlOnly || $0.isFolder || $0.name.hasSuffix(".xml") }
            .sorted { $0.name < $1.name }
        guard !entries.isEmpty else { return (prefix + partial, []) }
        if entries.count == 1 {
            let entry = entries[0]
            return (prefix + folderPart + entry.name + (entry.isFolder ? "/" : " "), [])
        }
        let names = entries.map { $0.name + ($0.isFolder ? "/" : "") }
        return (prefix + folderPart + commonPrefix(entries.map(\.name)), names)
    }

    private static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for word in words.dropFirst() {
            while !word.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }
}
