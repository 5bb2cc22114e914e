import Foundation
import MusterCore

/// Where the broker is and how to talk to it: everything a ``BrokerConnection`` needs apart from a token.
///
/// ```swift
/// var configuration = try BrokerConfiguration(url: "https://broker.example:7077")
/// configuration.tls.caCertificateFile = "/etc/muster/broker-ca.pem"
/// ```
public struct BrokerConfiguration: Sendable, Hashable {
    /// The broker's base URL, without a trailing slash (`http://127.0.0.1:7077`, or with a path prefix when the
    /// broker sits behind a proxy: `https://gateway.example/muster`); the first of ``baseURLs``.
    public var baseURL: String { baseURLs[0] }
    /// Every address of the broker service, in the order they are tried: a connection that cannot reach one
    /// (or is told it is unavailable) moves on to the next, and stays there while it answers.
    public private(set) var baseURLs: [String]
    /// How long to wait for what.
    public var timeouts: Timeouts
    /// How plain calls are retried.
    public var retry: RetryPolicy
    /// How event and output streams reconnect.
    public var reconnect: RetryPolicy
    /// How the broker's certificate is checked (for `https`).
    public var tls: TLSOptions
    /// The largest response body a call accepts (bytes); a bigger one fails with ``BrokerClientError/Code/unexpectedResponse``.
    public var maximumResponseBytes: Int
    /// Sent as `User-Agent`.
    public var userAgent: String

    /// Creates a configuration for the broker at `url`.
    ///
    /// `url` is `http://HOST:PORT` or `https://HOST:PORT`, optionally followed by a path prefix; a bare
    /// `HOST:PORT` means `http://HOST:PORT` (the form `MUSTER_BROKER` usually has). Several addresses of one
    /// broker service (a standby, replicas) are separated by commas: `http://a:7077,http://b:7077`.
    ///
    /// - Throws: ``BrokerClientError`` with code ``BrokerClientError/Code/invalidConfiguration`` for anything else.
    public init(
        url: String,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = .calls,
        reconnect: RetryPolicy = .streams,
        tls: TLSOptions = TLSOptions()
    ) throws {
        let parts = url.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var urls: [String] = []
        for part in parts {
            let normalized = try Self.normalize(part)
            if !urls.contains(normalized) { urls.append(normalized) }
        }
        self.baseURLs = urls
        self.timeouts = timeouts
        self.retry = retry
        self.reconnect = reconnect
        self.tls = tls
        self.maximumResponseBytes = 64 << 20
        self.userAgent = "muster-client"
    }

    /// Whether the broker is reached over TLS.
    public var usesTLS: Bool { baseURL.hasPrefix("https://") }

    /// The addresses as one text, as ``init(url:timeouts:retry:reconnect:tls:)`` takes them.
    public var urlList: String { baseURLs.joined(separator: ",") }

    static func normalize(_ text: String) throws(BrokerClientError) -> String {
        var url = text.trimmingCharacters(in: .whitespaces)
        if !url.contains("://") { url = "http://" + url }
        while url.hasSuffix("/") { url.removeLast() }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil, components.user == nil, components.password == nil
        else {
            throw BrokerClientError(
                code: .invalidConfiguration,
                message: "'\(text)' is not a broker address: use http://HOST:PORT or https://HOST:PORT (optionally with a path prefix)"
            )
        }
        return url
    }

    /// How long the client waits for what.
    public struct Timeouts: Sendable, Hashable {
        /// Establishing a TCP (and TLS) connection.
        public var connect: Duration
        /// A call, from sending it until the response head arrives (long-polls get their wait on top; see
        /// ``longPollMargin``).
        public var request: Duration
        /// Added to the server-side wait of a long-poll (``AgentClient/answer(after:wait:)``) to get its request
        /// timeout, so that the client never gives up before the broker has answered.
        public var longPollMargin: Duration
        /// How long an event or output stream may stay silent before the client deems the connection dead and
        /// reconnects. The broker writes a heartbeat every `BrokerProtocol.heartbeatSeconds` seconds,
        /// so the default allows three missed heartbeats. `nil`: never (a half-open connection then hangs).
        public var streamIdle: Duration?

        /// Creates timeouts.
        public init(
            connect: Duration = .seconds(10),
            request: Duration = .seconds(30),
            longPollMargin: Duration = .seconds(15),
            streamIdle: Duration? = .seconds(3 * BrokerProtocol.heartbeatSeconds)
        ) {
            self.connect = connect
            self.request = request
            self.longPollMargin = longPollMargin
            self.streamIdle = streamIdle
        }
    }

    /// How the broker's TLS certificate is checked.
    ///
    /// A broker started with a self-signed certificate (`muster broker --tls-cert … --tls-key …`) is trusted by
    /// naming that certificate (or the CA that signed it) in ``caCertificateFile`` or ``caCertificatePEM``.
    public struct TLSOptions: Sendable, Hashable {
        /// A PEM file with certificates to trust in addition to the system's roots.
        public var caCertificateFile: String?
        /// PEM text with the only certificates to trust, pinned (for example `AgentUserdata.caCertificatePEM`,
        /// which reaches an agent in its userdata): neither the system's roots nor ``caCertificateFile``'s
        /// certificates alone are enough then; a broker whose certificate does not chain to these is refused.
        public var caCertificatePEM: String?
        /// Whether the certificate must name the host in ``BrokerConfiguration/baseURL``. Turn off only for a
        /// certificate made for another name (for example reaching a broker by IP whose certificate names only
        /// its host name): the chain is still checked.
        public var verifyHostname: Bool

        /// Creates options.
        public init(caCertificateFile: String? = nil, caCertificatePEM: String? = nil, verifyHostname: Bool = true) {
            self.caCertificateFile = caCertificateFile
            self.caCertificatePEM = caCertificatePEM
            self.verifyHostname = verifyHostname
        }
    }
}
