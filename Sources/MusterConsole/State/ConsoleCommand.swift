/// A command typed on the `:` command line.
public enum ConsoleCommand: Sendable, Hashable {
    /// `:launch FILE`
    case launch(path: String)
    /// `:scale WORKSPACE +N` (add nodes) or `-N` (remove the last N slots, those with nothing running first; running
    /// ones are killed first)
    case scale(workspace: String, count: Int)
    /// `:theme NAME`
    case theme(String)
    /// `:context ID`
    case context(String)
    /// `:node NAME`: opens a node's detail
    case node(String)
    /// `:save [FILE]` (in a node's detail)
    case save(path: String?)
    /// `:contexts`, `:tree`, `:waits`, `:events`, `:timeline`
    case show(ConsoleView)
    /// `:help`
    case help
    /// `:quit` / `:q`
    case quit

    /// The commands with their usage, for completion and the help overlay.
    public static let catalog: [(name: String, usage: String)] = [
        ("launch", ":launch FILE            create and launch a context from a cluster document"),
        ("scale", ":scale WORKSPACE +N|-N  add N nodes, or remove N (idle slots first, running ones killed)"),
        ("theme", ":theme NAME             switch theme"),
        ("context", ":context ID             show another context"),
        ("node", ":node NAME              open a node's detail (Tab completes the name)"),
        ("contexts", ":contexts :tree :waits :events :timeline  switch view"),
        ("save", ":save [FILE]            save the node's output shown (default NODE.log)"),
        ("tree", ""),
        ("waits", ""),
        ("events", ""),
        ("timeline", ""),
        ("help", ":help                   this help"),
        ("quit", ":quit                   leave the console"),
    ]

    /// Parses a command line (without the `:`); the error says what is wrong and how to write it.
    public static func parse(_ line: String) -> Result<ConsoleCommand, CommandError> {
        let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
        guard let name = words.first else { return .failure(CommandError("type a command, for example :launch cluster.xml")) }
        let arguments = Array(words.dropFirst())
        switch name {
        case "launch":
            guard arguments.count == 1 else { return .failure(CommandError("usage: :launch FILE")) }
            return .success(.launch(path: arguments[0]))
        case "scale":
            guard arguments.count == 2 else { return .failure(CommandError("usage: :scale WORKSPACE +N (add) or -N (remove)")) }
            let number = arguments[1].hasPrefix("+") ? String(arguments[1].dropFirst()) : arguments[1]
            guard let count = Int(number), count != 0 else {
                return .failure(CommandError("'\(arguments[1])' is not a number of nodes (usage: :scale WORKSPACE +N to add, -N to remove)"))
            }
            return .success(.scale(workspace: arguments[0], count: count))
        case "theme":
            guard arguments.count == 1 else { return .failure(CommandError("usage: :theme NAME")) }
            return .success(.theme(arguments[0]))
        case "context", "ctx":
            guard arguments.count == 1 else { return .failure(CommandError("usage: :context ID")) }
            return .success(.context(arguments[0]))
        case "node":
            guard arguments.count == 1 else { return .failure(CommandError("usage: :node NAME")) }
            return .success(.node(arguments[0]))
        case "save":
            guard arguments.count <= 1 else { return .failure(CommandError("usage: :save [FILE]")) }
            return .success(.save(path: arguments.first))
        case "contexts", "ctxs": return .success(.show(.contexts))
        case "timeline": return .success(.show(.timeline))
        case "tree": return .success(.show(.tree))
        case "waits": return .success(.show(.waits))
        case "events": return .success(.show(.events))
        case "help", "h": return .success(.help)
        case "quit", "q": return .success(.quit)
        default:
            return .failure(CommandError("unknown command ':\(name)' (commands: \(catalog.map(\.name).joined(separator: ", ")))"))
        }
    }
}

/// Why a command line could not be used.
public struct CommandError: Error, Sendable, Hashable {
    /// What is wrong.
    public var message: String

    init(_ message: String) {
        self.message = message
    }
}
