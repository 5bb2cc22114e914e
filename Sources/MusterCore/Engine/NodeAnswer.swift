/// What a released node is told: the identities it must know, the providers of each role it requires, and its
/// data values. It grows (with a higher ``version``) when providers join later.
public struct NodeAnswer: Sendable, Hashable, Codable {
    /// Increases each time the answer changes after release; starts at 1.
    public var version: Int
    /// Every identity shared in the context, when the node requires all identities; otherwise empty.
    public var identities: [NodeIdentities]
    /// One entry per required role, with every registered provider.
    public var roles: [RoleAnswer]
    /// The node's data values, exactly as written in the document.
    public var data: [DataSpec]

    /// Creates an answer.
    public init(version: Int, identities: [NodeIdentities], roles: [RoleAnswer], data: [DataSpec]) {
        self.version = version
        self.identities = identities
        self.roles = roles
        self.data = data
    }
}

/// The identities of one node, as handed to nodes that require all identities.
public struct NodeIdentities: Sendable, Hashable, Codable {
    /// The node.
    public var node: String
    /// Its identities (the ones it shares).
    public var identities: [Identity]

    /// Creates an entry.
    public init(node: String, identities: [Identity]) {
        self.node = node
        self.identities = identities
    }
}

/// The providers of one required role.
public struct RoleAnswer: Sendable, Hashable, Codable {
    /// The role.
    public var role: String
    /// Whether the requirer asked for host names (`hostname="true"`): the agent adds them to `etc/hosts`.
    public var hostname: Bool
    /// Whether the requirer asked for host keys (`pubkey="true"`): the agent trusts them.
    public var pubkey: Bool
    /// Each provider, in slot order, with the identity of the NIC the role is provided on.
    public var providers: [Provider]

    /// Creates a role answer.
    public init(role: String, hostname: Bool, pubkey: Bool, providers: [Provider]) {
        self.role = role
        self.hostname = hostname
        self.pubkey = pubkey
        self.providers = providers
    }

    /// One provider of a role.
    public struct Provider: Sendable, Hashable, Codable {
        /// The provider node.
        public var node: String
        /// Its identity on the NIC the role is provided on.
        public var identity: Identity

        /// Creates a provider entry.
        public init(node: String, identity: Identity) {
            self.node = node
            self.identity = identity
        }
    }
}
