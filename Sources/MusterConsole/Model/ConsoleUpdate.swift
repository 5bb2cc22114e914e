import MusterCore

/// One piece of news for the console from its data feed (the broker client), applied by ``ConsoleModel``.
public enum ConsoleUpdate: Sendable, Hashable {
    /// A consistent picture of the context; replaces what the console knew (output lines of nodes that still
    /// exist are kept).
    case snapshot(ContextSnapshot)
    /// Events in sequence order; events already included in the snapshot are ignored.
    case events([ContextEvent])
    /// New lines of one node's script output, in index order; lines already seen are ignored.
    case output(node: String, lines: [OutputLine])
    /// The connection to the broker changed.
    case connection(ConnectionState)
    /// The contexts the broker knows (for `:context` completion).
    case contexts([ContextID])
}
