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
    /// Retry these nodes: every retryable node of a workspace, named when the operator confirmed.
    case retryFailed(workspace: String, nodes: [String])
    /// Kill one node.
    case kill(node: String)
    /// Show another context.
    case switchContext(ContextID)
    /// Write a node's output, as shown, to a file.
    case saveOutput(node: String, path: String)
    /// Use another theme.
    case setTheme(String)
    /// Leave the console.
    case quit
}
