/// What a node's agent is given at boot: how to reach the broker and who it is. A launcher writes it (a file
/// on the local launcher, EC2 userdata in the cloud) and `muster-agent` reads it.
///
/// ```json
/// {"version": 1, "broker": "http://127.0.0.1:7077", "context": "cpe-3f9a", "node": "rabbitmq-head-0",
///  "generation": 0, "token": "mst_node_…", "root": "/work/.muster/cpe-3f9a/nodes/rabbitmq-head-0",
///  "nics": [{"label": "public", "ip": "127.77.0.2", "hostname": "rabbitmq-head-0.cpe-3f9a.muster.local"}],
///  "scriptTimeoutSeconds": 600}
/// ```
///
/// It holds the node's bearer token: launchers write it readable by its owner only.
public struct AgentUserdata: Sendable, Hashable, Codable {
    /// The format version (1).
    public var version: Int
    /// The broker's URL.
    public var broker: String
    /// The context id.
    public var context: ContextID
    /// The node name.
    public var node: String
    /// The slot generation this agent runs for (0 first, one more per retry).
    public var generation: Int
    /// The node's bearer token.
    public var token: String
    /// The node's root folder (ctx-scripts, etc/, …); `/` on a real machine, the node's own folder locally.
    public var root: String?
    /// The node's NICs with the address and host name the launcher assigned; empty means "discover them".
    public var nics: [NIC]
    /// The longest one ctx-script may run before its whole process group is killed.
    public var scriptTimeoutSeconds: Int?
    /// A PEM CA certificate to trust for the broker's TLS (a self-signed broker).
    public var caCertificatePEM: String?

    /// One NIC as the launcher set it up. A cloud launcher names the NIC only (its address and host name are
    /// the agent's to find, from the instance metadata); the local launcher gives all three.
    public struct NIC: Sendable, Hashable, Codable {
        /// The NIC label (``NICSpec/label``).
        public var label: String
        /// The address, when the launcher knows it.
        public var ip: String?
        /// The fully qualified host name, when the launcher knows it.
        public var hostname: String?

        /// Creates a NIC.
        public init(label: String, ip: String? = nil, hostname: String? = nil) {
            self.label = label
            self.ip = ip
            self.hostname = hostname
        }
    }

    /// The format version this code writes.
    public static let currentVersion = 1

    /// Creates userdata.
    public init(
        broker: String,
        context: ContextID,
        node: String,
        generation: Int,
        token: String,
        root: String? = nil,
        nics: [NIC] = [],
        scriptTimeoutSeconds: Int? = nil,
        caCertificatePEM: String? = nil
    ) {
        self.version = Self.currentVersion
        self.broker = broker
        self.context = context
        self.node = node
        self.generation = generation
        self.token = token
        self.root = root
        self.nics = nics
        self.scriptTimeoutSeconds = scriptTimeoutSeconds
        self.caCertificatePEM = caCertificatePEM
    }
}
