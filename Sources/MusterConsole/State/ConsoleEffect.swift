import MusterCore

/// Something the console asks the outside world to do. Key handling returns effects instead of doing I/O; the
/// ``ConsoleLoop`` performs them and feeds each result back as ``ConsoleInput/actionSucceeded(_:)`` or
/// ``ConsoleInput/actionFailed(_:)``.
public enum ConsoleEffect: Sendable, Hashable {
    /// Create and launch a context from a cluster document file.
    case launch(path: String)
    /// Add nodes to a workspace of the current context.
    case addNodes(workspace: String, count: Int)
    /// Retry one failed, killed or timed-out node.
    case retry(node: String)
    /// Retry these nodes (marked ones, or every failed node of a workspace), named when the operator confirmed;
    /// `what` names the set in the result (`3 marked nodes`).
    case retryNodes([String], what: String)
    /// Kill one node.
    case kill(node: String)
    /// Kill these nodes (marked ones).
    case killNodes([String], what: String)
    /// Scale a workspace down: kill the running nodes among `kill`, then remove the slots of `remove` (which holds
    /// them too); `what` names the set in the result.
    case removeNodes(_ remove: [String], kill: [String], what: String)
    /// Show another context.
    case switchContext(ContextID)
    /// Write a node's output, as shown, to a file.
    case saveOutput(node: String, path: String)
    /// Use another theme.
    case setTheme(String)
    /// Open a shell on a node (the console steps aside until it exits).
    case shell(node: String)
    /// Run one of the user's commands (from the config file) for a node.
    case userCommand(UserCommand, node: String)
    /// Put text on the terminal's clipboard (OSC 52).
    case copy(String)
    /// Leave the console.
    case quit
}
