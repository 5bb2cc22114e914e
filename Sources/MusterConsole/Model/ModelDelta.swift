/// What applying an update changed in a ``ConsoleModel``, so that view indices can follow incrementally.
public struct ModelDelta: Sendable, Hashable {
    /// Nodes whose name, state or identity changed (indices into ``ConsoleModel/nodes``).
    public var touchedNodes: [Int] = []
    /// Nodes that received new output lines.
    public var outputNodes: [Int] = []
    /// Nodes or workspaces were added, or a snapshot replaced everything.
    public var structureChanged = false
    /// Nodes were removed: the new index of each node index before this update (`nil` for a removed node).
    public var renumbered: [Int?]?
    /// How many entries were added to the event log.
    public var loggedEntries = 0
    /// Whether anything at all changed (the screen needs a new frame).
    public var changed = false

    /// Creates an empty delta.
    public init() {}
}
