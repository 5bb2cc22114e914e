import Foundation

/// How a broker serves: where it listens, where it keeps state, how it authenticates, TLS.
public struct BrokerServerConfiguration: Sendable {
    /// The address to listen on (`127.0.0.1` by default: reachable from this machine only).
    public var host: String
    /// The port; 0 picks a free one (the real address is reported once listening).
    public var port: Int
    /// The folder for `state.sqlite` and `operator-token`; `nil` keeps state in memory only.
    public var stateDirectory: String?
    /// The operator token to use; when `nil`, the one set at first start is kept, or a new one is minted.
    public var operatorToken: String?
    /// A PEM certificate chain and private key to serve HTTPS.
    public var tls: TLSFiles?
    /// The longest an agent's long-poll is held (seconds).
    public var longPollSeconds: Int
    /// How often idle event streams get a heartbeat.
    public var heartbeat: Duration
    /// The `muster-agent` binaries served at `GET /v1/agent/linux/{arch}` to cloud nodes; none when `nil`.
    public var agentDownload: AgentDownload? = nil
    /// The URL nodes reach the broker at (`--advertise`), when it is not the one it listens on; handed to
    /// launchers and written to `broker.json`.
    public var advertisedURL: String? = nil
    /// The host name or address nodes reach the broker at, when only the port is left to learn (listening on port 0).
    public var advertisedHost: String? = nil
    /// The host this machine's tools (the CLI, `muster up`'s own follower) use when it is not the advertised one:
    /// `127.0.0.1` for a broker listening on every address with its own CA (whose certificate names the loopback
    /// addresses too), since the advertised address may not be reachable from the broker's own machine (a NAT's
    /// public address). `onListening` is called with this URL; launchers are handed the advertised one.
    public var localHost: String? = nil
    /// Timeouts, caps and quotas: what one client, node or slow reader may cost the broker.
    public var limits = BrokerLimits()
    /// A PostgreSQL URL (`postgres://…`) to keep the state in instead of ``databasePath``; the state folder
    /// still holds the operator token, the TLS files and `broker.json`.
    public var storeURL: PostgresStoreURL? = nil
    /// With ``storeURL``: wait until no other broker serves the database (a standby that takes over when they
    /// stop or their machines are lost), instead of serving alongside them as a replica.
    public var standby = false
    /// This broker's name among replicas sharing a store, in `/v1/healthz`; `nil`: the host name and the port
    /// it listens on.
    public var replicaName: String? = nil

    /// Paths of a TLS certificate chain and its private key, both PEM.
    public struct TLSFiles: Sendable {
        /// The certificate chain.
        public var certificate: String
        /// The private key.
        public var key: String

        /// Creates TLS file paths.
        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// Creates a configuration.
    public init(
        host: String = "127.0.0.1",
        port: Int = 7077,
        stateDirectory: String? = nil,
        operatorToken: String? = nil,
        tls: TLSFiles? = nil,
        longPollSeconds: Int = 30,
        heartbeat: Duration = .seconds(15)
    ) {
        self.host = host
        self.port = port
        self.stateDirectory = stateDirectory
        self.operatorToken = operatorToken
        self.tls = tls
        self.longPollSeconds = longPollSeconds
        self.heartbeat = heartbeat
    }

    /// The state database in ``stateDirectory``.
    public var databasePath: String? { stateDirectory.map { ($0 as NSString).appendingPathComponent("state.sqlite") } }

    /// Where the operator token is written at first start.
    public var operatorTokenPath: String? { stateDirectory.map { ($0 as NSString).appendingPathComponent("operator-token") } }
}

extension BrokerServerConfiguration {
    /// The URL nodes use for an `--advertise` text, once the broker listens on `port`: a URL without a port gets
    /// that one.
    public static func advertised(_ text: String?, port: Int) -> URL? {
        guard let text, var components = URLComponents(string: text) else { return nil }
        if components.port == nil { components.port = port }
        return components.url
    }
}
