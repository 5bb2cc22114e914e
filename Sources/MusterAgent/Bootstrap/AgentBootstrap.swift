import Foundation
import MusterCore

/// What an agent must know to start: its broker, its node, its token, its root folder and its NICs.
///
/// It is read from userdata in MusterCore's ``MusterCore/AgentUserdata`` format (the JSON object launchers
/// write; `muster-agent` reads it from a file, a URL or an EC2-style metadata service), and flags can give or
/// override each field:
///
/// ```json
/// {
///   "version": 1,
///   "broker": "http://127.0.0.1:7077",
///   "context": "cpe-3f9a",
///   "node": "rabbitmq-head-0",
///   "generation": 0,
///   "token": "mst_node_…",
///   "root": "/work/.muster/cpe-3f9a/nodes/rabbitmq-head-0",
///   "nics": [{ "label": "public", "ip": "127.77.0.2", "hostname": "rabbitmq-head-0.cpe-3f9a.muster.local" }],
///   "scriptTimeoutSeconds": 600
/// }
/// ```
///
/// `broker`, `context`, `node` and `token` are required. `generation` (the slot generation, default 0)
/// tells a retried node's agent to start over. `root` defaults to `/`, `scriptTimeoutSeconds` to 1800.
/// Each NIC has a `label` (the document's interface label or network name) and may give its `ip` and
/// `hostname`; what is not given is for the agent to discover. `caCertificatePEM` is a CA to trust for the
/// broker's TLS. The agent also reads two fields of its own: `scripts` (the ctx-scripts folder, relative to
/// `root` unless absolute; default `ctx-scripts`) and `metadata` (an EC2-style metadata URL). Unknown fields
/// are ignored, so older agents read newer userdata of the same `version`.
public struct AgentBootstrap: Sendable, Hashable {
    /// The environment variable `muster-agent` may take the node token from; scripts never see it.
    public static let tokenVariable = "MUSTER_NODE_TOKEN"
    /// The default per-script timeout.
    public static let defaultScriptTimeout: Duration = .seconds(1800)

    /// The broker's base URL (`http` or `https`): the first of ``brokers``.
    public var broker: URL
    /// Every address of the broker (replicas sharing a store, given as a comma-separated list), in the order
    /// the agent tries them; one element for a single broker.
    public var brokers: [URL]
    /// The node's context.
    public var context: ContextID
    /// The node's name.
    public var node: String
    /// The node's bearer token.
    public var token: String
    /// The slot generation the token is for.
    public var generation: Int
    /// The node's folders.
    public var layout: NodeLayout
    /// The node's NICs, as the launcher knows them.
    public var nics: [NICHint]
    /// How long each script may run.
    public var scriptTimeout: Duration
    /// An EC2-style metadata URL to discover addresses and names from, if any.
    public var metadata: URL?
    /// A PEM CA certificate to trust for the broker's TLS (a self-signed broker).
    public var caCertificatePEM: String?

    /// What the launcher says about one NIC.
    public struct NICHint: Sendable, Hashable, Codable {
        /// The NIC label (interface label or network name).
        public var label: String
        /// Its address, when the launcher knows it.
        public var ip: String?
        /// Its fully qualified host name, when the launcher knows it.
        public var hostname: String?

        /// Creates a hint.
        public init(label: String, ip: String? = nil, hostname: String? = nil) {
            self.label = label
            self.ip = ip
            self.hostname = hostname
        }
    }

    /// Creates a bootstrap.
    public init(
        broker: URL,
        alternatives: [URL] = [],
        context: ContextID,
        node: String,
        token: String,
        generation: Int = 0,
        layout: NodeLayout,
        nics: [NICHint],
        scriptTimeout: Duration = AgentBootstrap.defaultScriptTimeout,
        metadata: URL? = nil,
        caCertificatePEM: String? = nil
    ) {
        self.broker = broker
        self.brokers = [broker] + alternatives
        self.context = context
        self.node = node
        self.token = token
        self.generation = generation
        self.layout = layout
        self.nics = nics
        self.scriptTimeout = scriptTimeout
        self.metadata = metadata
        self.caCertificatePEM = caCertificatePEM
    }

    /// The node's identities, one per NIC in order, when every NIC's address and host name are known.
    ///
    /// - Returns: `nil` when some NIC lacks an address or a host name (the agent must discover them).
    public func identities(pubkey: String) -> [Identity]? {
        var identities: [Identity] = []
        for nic in nics {
            guard let ip = nic.ip, let hostname = nic.hostname else { return nil }
            identities.append(Identity(interface: nic.label, ip: ip, hostname: hostname, pubkey: pubkey))
        }
        return identities
    }
}

extension AgentBootstrap {
    /// Userdata or flags before they are checked: every field optional. Decodes the JSON format above;
    /// ``merging(_:)`` lays flags over userdata, and ``resolve()`` checks the result.
    public struct Fields: Sendable, Hashable, Codable {
        /// The userdata format version (``MusterCore/AgentUserdata/currentVersion``), when from userdata.
        public var version: Int?
        /// The broker's base URL.
        public var broker: String?
        /// The context id.
        public var context: String?
        /// The node name.
        public var node: String?
        /// The node token.
        public var token: String?
        /// The slot generation.
        public var generation: Int?
        /// The root folder path.
        public var root: String?
        /// The ctx-scripts folder path, relative to the root unless absolute.
        public var scripts: String?
        /// The NICs.
        public var nics: [NICHint]?
        /// The per-script timeout in seconds.
        public var scriptTimeoutSeconds: Double?
        /// An EC2-style metadata URL.
        public var metadata: String?
        /// A PEM CA certificate for the broker's TLS.
        public var caCertificatePEM: String?

        /// Creates fields (all empty by default).
        public init(
            version: Int? = nil,
            broker: String? = nil,
            context: String? = nil,
            node: String? = nil,
            token: String? = nil,
            generation: Int? = nil,
            root: String? = nil,
            scripts: String? = nil,
            nics: [NICHint]? = nil,
            scriptTimeoutSeconds: Double? = nil,
            metadata: String? = nil,
            caCertificatePEM: String? = nil
        ) {
            self.version = version
            self.broker = broker
            self.context = context
            self.node = node
            self.token = token
            self.generation = generation
            self.root = root
            self.scripts = scripts
            self.nics = nics
            self.scriptTimeoutSeconds = scriptTimeoutSeconds
            self.metadata = metadata
            self.caCertificatePEM = caCertificatePEM
        }

        /// Whether no field is given.
        public var isEmpty: Bool { self == Fields() }

        /// These fields, with every field `overrides` gives replacing this one's.
        public func merging(_ overrides: Fields) -> Fields {
            Fields(
                version: overrides.version ?? version,
                broker: overrides.broker ?? broker,
                context: overrides.context ?? context,
                node: overrides.node ?? node,
                token: overrides.token ?? token,
                generation: overrides.generation ?? generation,
                root: overrides.root ?? root,
                scripts: overrides.scripts ?? scripts,
                nics: overrides.nics ?? nics,
                scriptTimeoutSeconds: overrides.scriptTimeoutSeconds ?? scriptTimeoutSeconds,
                metadata: overrides.metadata ?? metadata,
                caCertificatePEM: overrides.caCertificatePEM ?? caCertificatePEM
            )
        }

        /// Checks the fields and makes a bootstrap, naming every problem at once.
        ///
        /// - Throws: ``AgentError/input(_:)`` (code 1).
        public func resolve() throws(AgentError) -> AgentBootstrap {
            var problems: [String] = []
            if let version, version != AgentUserdata.currentVersion {
                problems.append("userdata version \(version) is not the version this agent reads (\(AgentUserdata.currentVersion))")
            }
            func required(_ value: String?, _ name: String) -> String {
                guard let value = value?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                    problems.append("\(name) is missing")
                    return ""
                }
                return value
            }
            // One address, or several (replicas) separated by commas.
            let brokerText = required(broker, "broker")
            var brokerURLs: [URL] = []
            for part in brokerText.split(separator: ",", omittingEmptySubsequences: false) where !brokerText.isEmpty {
                let text = part.trimmingCharacters(in: .whitespaces)
                if let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased()), url.host != nil {
                    brokerURLs.append(url)
                } else {
                    problems.append("broker \"\(text)\" is not an http or https URL")
                }
            }
            let brokerURL = brokerURLs.first
            let contextText = required(context, "context")
            let nodeText = required(node, "node")
            let tokenText = required(token, "token")
            if let generation, generation < 0 { problems.append("generation must not be negative") }
            let timeout = scriptTimeoutSeconds ?? Double(AgentBootstrap.defaultScriptTimeout.components.seconds)
            if !(timeout > 0 && timeout.isFinite) { problems.append("scriptTimeoutSeconds must be a positive number of seconds") }
            let rootPath = root.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
            if let nics {
                var labels: Set<String> = []
                for nic in nics {
                    if let problem = SafeName.problem(in: nic.label) { problems.append(problem.message(for: "NIC name")) }
                    if !labels.insert(nic.label).inserted { problems.append("NIC \"\(nic.label)\" is given twice") }
                }
            }
            var metadataURL: URL?
            if let metadata {
                metadataURL = URL(string: metadata)
                if metadataURL?.scheme == nil { problems.append("metadata \"\(metadata)\" is not a URL") }
            }
            guard problems.isEmpty, let brokerURL else { throw .input("bad agent bootstrap: " + problems.joined(separator: "; ")) }
            let rootURL = URL(fileURLWithPath: rootPath, isDirectory: true)
            let scriptsURL = scripts.map { $0.hasPrefix("/") ? URL(fileURLWithPath: $0, isDirectory: true) : rootURL.appendingPathComponent($0) }
            return AgentBootstrap(
                broker: brokerURL,
                alternatives: Array(brokerURLs.dropFirst()),
                context: ContextID(contextText),
                node: nodeText,
                token: tokenText,
                generation: generation ?? 0,
                layout: NodeLayout(root: rootURL, scripts: scriptsURL),
                nics: nics ?? [],
                scriptTimeout: .milliseconds(max(1, Int64((timeout * 1000).rounded()))),
                metadata: metadataURL,
                caCertificatePEM: caCertificatePEM
            )
        }
    }
}
