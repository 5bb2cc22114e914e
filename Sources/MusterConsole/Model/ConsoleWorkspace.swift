import MusterCore

/// One workspace as the console keeps it, with live counts of its nodes by state.
public struct ConsoleWorkspace: Sendable, Hashable {
    /// The workspace name.
    public var name: String
    /// Its image.
    public var image: String
    /// The roles its nodes provide.
    public var roles: [String]
    /// The roles its nodes require.
    public var requiredRoles: [RequiredRole]
    /// Whether its nodes require every identity.
    public var requiresAllIdentities: Bool
    /// The names of the data values its nodes receive (never the values).
    public var dataNames: [String]
    /// Indices of its nodes in ``ConsoleModel/nodes``, in slot order.
    public var nodes: [Int]
    /// Its nodes by state, kept in step with every transition.
    public var counts = StateCounts()

    /// Creates a workspace from a snapshot, without nodes (the model adds their indices).
    public init(_ snapshot: WorkspaceSnapshot) {
        name = snapshot.name
        image = snapshot.image
        roles = snapshot.roles
        requiredRoles = snapshot.requiredRoles
        requiresAllIdentities = snapshot.requiresAllIdentities
        dataNames = snapshot.dataNames
        nodes = []
    }

    /// Creates a workspace known only by name (from a `contextCreated` event without a snapshot).
    public init(name: String) {
        self.name = name
        image = ""
        roles = []
        requiredRoles = []
        requiresAllIdentities = false
        dataNames = []
        nodes = []
    }

    /// The labels of what its nodes require, in the engine's order: `*` first, then each role once.
    public var requirementLabels: [String] {
        var labels = requiresAllIdentities ? ["*"] : []
        for role in requiredRoles where !labels.contains(role.name) { labels.append(role.name) }
        return labels
    }
}
