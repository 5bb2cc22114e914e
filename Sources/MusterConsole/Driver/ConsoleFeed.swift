import MusterCore

/// Where the console's data comes from: the broker client, or anything that can tell what happens in a
/// context. The console consumes only ``ConsoleUpdate``s, so it never sees HTTP.
///
/// The console asks for what it shows and no more, so that it holds a small, fixed number of connections to
/// the broker whatever the size of the context: one event stream for the context shown, the output of the one
/// node whose detail is open, and the list of contexts while the contexts view is shown.
public protocol ConsoleFeed: Sendable {
    /// The updates of one context: a snapshot, then its events (history from the first, then live ones) and the
    /// connection state (`.reconnecting` while it retries with backoff, then a fresh `.snapshot` once it is
    /// back). The console stops iterating when it switches context or quits; the network work must then stop.
    func updates(for context: ContextID) -> AsyncStream<ConsoleUpdate>
    /// The output of one attempt of one node as `.output` updates: for the node's current attempt the lines so
    /// far, then live lines until the console stops iterating; for an earlier attempt its lines, then the end.
    func output(of node: String, in context: ContextID, attempt: Int, live: Bool) -> AsyncStream<ConsoleUpdate>
    /// The contexts the broker knows, with their status; nil when it cannot tell now.
    func contexts() async -> [ContextSummary]?
    /// Who starts the broker's nodes; nil when the broker does not say.
    func launcher() async -> BrokerLauncher?
}

extension ConsoleFeed {
    public func launcher() async -> BrokerLauncher? { nil }
}

/// What the console's effects do outside it: the broker's operator actions. Each throws an error whose
/// description the status line shows; none may crash the console.
public protocol ConsoleActions: Sendable {
    /// Creates a context from the cluster document at `path` and launches it; returns its id.
    func launch(documentAt path: String) async throws -> ContextID
    /// Adds `count` nodes to a workspace of a context.
    func addNodes(context: ContextID, workspace: String, count: Int) async throws
    /// Retries a failed, killed or timed-out node.
    func retry(context: ContextID, node: String) async throws
    /// Kills a node.
    func kill(context: ContextID, node: String) async throws
    /// Removes a slot that has nothing running (pending, failed, killed, timed out) from its workspace.
    func removeNode(context: ContextID, node: String) async throws
}
