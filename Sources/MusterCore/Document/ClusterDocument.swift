/// A cluster document: the groups of nodes ("workspaces") to start and how they depend on each other.
///
/// This is the Nimbus cluster format (`<cluster><workspace>…`), read by ``ClusterDocumentParser``. A document is a
/// plain value: it knows nothing about running nodes; ``ContextEngine`` turns it into a running context.
public struct ClusterDocument: Sendable, Hashable, Codable {
    /// The workspaces, in document order.
    public var workspaces: [WorkspaceSpec]

    /// Creates a document from workspaces.
    public init(workspaces: [WorkspaceSpec]) {
        self.workspaces = workspaces
    }

    /// The workspace with this name, if any.
    public func workspace(named name: String) -> WorkspaceSpec? {
        workspaces.first { $0.name == name }
    }

    /// The total number of nodes the document starts.
    public var nodeCount: Int { workspaces.reduce(0) { $0 + $1.quantity } }
}

/// One `<workspace>`: a group of identical nodes.
public struct WorkspaceSpec: Sendable, Hashable, Codable {
    /// The workspace name; nodes are named `<name>-<n>` with n from 0.
    public var name: String
    /// The image the nodes boot from (an AMI id on EC2, a folder under `images/` on the local launcher).
    public var image: String
    /// How many nodes to start.
    public var quantity: Int
    /// The network interfaces of each node, at least one.
    public var nics: [NICSpec]
    /// Nimbus's `<active>` flag, if the document gives one.
    public var active: Bool?
    /// Nimbus's multi-cloud `<deploy>` entries, kept as written.
    public var deployments: [DeploySpec]
    /// What each node of this workspace provides to others.
    public var provides: ProvidesSpec
    /// What each node of this workspace needs before it can configure itself.
    public var requires: RequiresSpec

    /// Creates a workspace.
    public init(
        name: String,
        image: String,
        quantity: Int,
        nics: [NICSpec],
        active: Bool? = nil,
        deployments: [DeploySpec] = [],
        provides: ProvidesSpec = ProvidesSpec(),
        requires: RequiresSpec = RequiresSpec()
    ) {
        self.name = name
        self.image = image
        self.quantity = quantity
        self.nics = nics
        self.active = active
        self.deployments = deployments
        self.provides = provides
        self.requires = requires
    }

    /// The name of the node in slot `index` of this workspace.
    public func nodeName(_ index: Int) -> String { "\(name)-\(index)" }
}

/// One `<nic>`: a network the node is attached to, and the name the broker knows it by.
public struct NICSpec: Sendable, Hashable, Codable {
    /// The network name (the element's text, for example `public`).
    public var network: String
    /// The NIC name the document gives: the `interface` (or `_interface`) attribute, or, as Nimbus does, the
    /// interface of the workspace's only provided identity when its only NIC has no attribute.
    public var interface: String?
    /// Whether the operator wants to log in over this NIC (its host key goes to the local known_hosts).
    public var wantLogin: Bool

    /// Creates a NIC.
    public init(network: String, interface: String? = nil, wantLogin: Bool = false) {
        self.network = network
        self.interface = interface
        self.wantLogin = wantLogin
    }

    /// The broker's NIC name for a NIC on the `public` network (Nimbus's `publicnic`).
    public static let publicName = "publicnic"
    /// The broker's NIC name for a NIC on a `private` network (Nimbus's `localnic`).
    public static let localName = "localnic"
    /// The NIC names agents map discovered addresses to; other names draw a validation warning.
    public static let standardNames: Set<String> = [publicName, localName]

    /// The name that identifies this NIC in identities and `2-thishost/<name>`, `5-thishost-finalize/<name>`
    /// scripts, following Nimbus's cloud-client: ``interface`` when the document gives one, otherwise the name
    /// ``nimbusName(forNetwork:)`` picks for the network.
    ///
    /// A document that validated always yields one of those two; for a NIC whose network has no Nimbus name
    /// (which validation refuses when the NIC is unnamed) the network name stands in.
    public var label: String { interface ?? Self.nimbusName(forNetwork: network) ?? network }

    /// The name Nimbus gives an unnamed NIC on `network`: ``publicName`` when the network's name starts with
    /// `public`, ``localName`` when it starts with `private` (ignoring case and surrounding whitespace), else `nil`.
    public static func nimbusName(forNetwork network: String) -> String? {
        let name = network.utf8.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        if startsCaseInsensitively(name, with: "public") { return publicName }
        if startsCaseInsensitively(name, with: "private") { return localName }
        return nil
    }

    private enum CodingKeys: String, CodingKey {
        case network, interface, wantLogin, name
    }

    /// Decodes a NIC; a `name` in the input is ignored (it follows from the other fields).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        network = try container.decode(String.self, forKey: .network)
        interface = try container.decodeIfPresent(String.self, forKey: .interface)
        wantLogin = try container.decode(Bool.self, forKey: .wantLogin)
    }

    /// Encodes a NIC with its ``label`` as `name`, so that JSON readers (`muster plan --json`, the broker API)
    /// see the NIC name without knowing Nimbus's rule.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(network, forKey: .network)
        try container.encodeIfPresent(interface, forKey: .interface)
        try container.encode(wantLogin, forKey: .wantLogin)
        try container.encode(label, forKey: .name)
    }

    private static func startsCaseInsensitively(_ text: Substring.UTF8View, with prefix: StaticString) -> Bool {
        let bytes = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        guard text.count >= bytes.count else { return false }
        return zip(text, bytes).allSatisfy { ($0 | 0x20) == $1 }
    }
}

/// One `<deploy>` entry (Nimbus multi-cloud placement).
public struct DeploySpec: Sendable, Hashable, Codable {
    /// The cloud to deploy to.
    public var cloud: String
    /// An image override for that cloud.
    public var image: String?
    /// How many nodes go to that cloud.
    public var quantity: Int

    /// Creates a deploy entry.
    public init(cloud: String, image: String? = nil, quantity: Int) {
        self.cloud = cloud
        self.image = image
        self.quantity = quantity
    }
}

/// `<provides>`: the identities a node reports and the roles it plays.
public struct ProvidesSpec: Sendable, Hashable, Codable {
    /// One entry per `<identity>`; an entry's interface picks the NIC (nil: every NIC).
    public var identities: [ProvidedIdentity]
    /// The roles each node of the workspace plays.
    public var roles: [ProvidedRole]

    /// Creates a provides section.
    public init(identities: [ProvidedIdentity] = [], roles: [ProvidedRole] = []) {
        self.identities = identities
        self.roles = roles
    }

    /// Whether nodes share their identity with nodes that require all identities.
    public var sharesIdentity: Bool { !identities.isEmpty }
}

/// `<provides><identity>`.
public struct ProvidedIdentity: Sendable, Hashable, Codable {
    /// The NIC label this identity is for; nil for all NICs.
    public var interface: String?

    /// Creates a provided identity.
    public init(interface: String? = nil) {
        self.interface = interface
    }
}

/// `<provides><role>`.
public struct ProvidedRole: Sendable, Hashable, Codable {
    /// The role name.
    public var name: String
    /// The NIC label whose identity is handed out for this role; nil for the node's first NIC.
    public var interface: String?

    /// Creates a provided role.
    public init(name: String, interface: String? = nil) {
        self.name = name
        self.interface = interface
    }
}

/// `<requires>`: what a node must know before it is released.
public struct RequiresSpec: Sendable, Hashable, Codable {
    /// `<requires><identity/>`: the node needs every node's identity, so it is released only once every node of
    /// the context has registered.
    public var allIdentities: Bool
    /// The roles the node needs, each with every provider's identity.
    public var roles: [RequiredRole]
    /// Opaque values handed to the node (often secrets).
    public var data: [DataSpec]

    /// Creates a requires section.
    public init(allIdentities: Bool = false, roles: [RequiredRole] = [], data: [DataSpec] = []) {
        self.allIdentities = allIdentities
        self.roles = roles
        self.data = data
    }

    /// Whether the section asks for nothing.
    public var isEmpty: Bool { !allIdentities && roles.isEmpty && data.isEmpty }
}

/// What a requirer waits for before the providers of a role count as present.
public enum WaitCondition: String, Sendable, Hashable, Codable, CaseIterable {
    /// Nimbus semantics: the provider has registered its identity (it need not have finished its scripts).
    case registered
    /// Muster extension: the provider's scripts have all finished OK.
    case ready
}

/// `<requires><role name=… hostname=… pubkey=…/>`.
public struct RequiredRole: Sendable, Hashable, Codable {
    /// The role name.
    public var name: String
    /// Whether the answer includes each provider's host name.
    public var hostname: Bool
    /// Whether the answer includes each provider's SSH host public key.
    public var pubkey: Bool
    /// When a provider counts as present (`muster:wait`, default ``WaitCondition/registered``).
    public var wait: WaitCondition

    /// Creates a required role.
    public init(name: String, hostname: Bool = false, pubkey: Bool = false, wait: WaitCondition = .registered) {
        self.name = name
        self.hostname = hostname
        self.pubkey = pubkey
        self.wait = wait
    }
}

/// `<requires><data name=…>value</data>`.
public struct DataSpec: Sendable, Hashable, Codable {
    /// The data name (the agent runs `3-data/<name>`).
    public var name: String
    /// The value exactly as written (CDATA included, line endings normalized to `\n`).
    public var value: String

    /// Creates a data value.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
