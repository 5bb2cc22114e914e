import MusterCore

/// What the console needs from its feed now, derived from what it shows: the feed keeps exactly this open, so
/// the console's connections to the broker are few and bounded whatever the size of the context.
public struct ConsoleDemand: Sendable, Hashable {
    /// The output of one attempt of one node (the open detail view), if any.
    public var output: OutputDemand?
    /// Whether the list of contexts is shown (and so refreshed).
    public var contexts: Bool

    /// Creates a demand.
    public init(output: OutputDemand? = nil, contexts: Bool = false) {
        self.output = output
        self.contexts = contexts
    }
}

/// The output of one attempt of a node.
public struct OutputDemand: Sendable, Hashable {
    /// The node's context.
    public var context: ContextID
    /// The node.
    public var node: String
    /// The attempt (slot generation, from 0).
    public var attempt: Int
    /// Whether it is the node's current attempt (followed live) rather than a finished earlier one.
    public var live: Bool

    /// Creates a demand.
    public init(context: ContextID, node: String, attempt: Int, live: Bool) {
        self.context = context
        self.node = node
        self.attempt = attempt
        self.live = live
    }
}
