import MusterCore

/// Where the console's data comes from: the broker client, or anything that can tell what happens in a
/// context. The console consumes only ``ConsoleUpdate``s, so it never sees HTTP.
///
/// An implementation over `MusterClient` would, for ``updates(for:)``: fetch the snapshot and yield
/// `.snapshot`, then follow the event stream from the snapshot's sequence and yield `.events` as they arrive,
/// fetch output of nodes and yield `.output`, and report `.connection` changes (`.reconnecting` while it
/// retries with backoff, then a fresh `.snapshot` once it is back).
public protocol ConsoleFeed: Sendable {
    /// The updates of one context, first a snapshot; the console stops iterating when it switches context
    /// or quits (the stream's termination handler should then cancel the network work).
    func updates(for context: ContextID) -> AsyncStream<ConsoleUpdate>
    /// The contexts the broker knows (for `:context` completion); an empty list when it cannot tell.
    func contexts() async -> [ContextID]
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
}
