import AsyncHTTPClient
import Foundation
import MusterCore
import NIOCore
import NIOHTTP1

/// An EC2-style instance metadata service (`http://169.254.169.254/latest` on EC2): the node's userdata, its
/// launch index, and the addresses and host names its identity is made of.
///
/// IMDSv2 first (a session token from `PUT /api/token`, sent with every read), IMDSv1 when the service gives no
/// token. A read that cannot connect is tried a few times: the service may not answer in the first seconds
/// of a boot.
public actor InstanceMetadata {
    /// What the service says about the node's network.
    public struct Network: Sendable, Hashable {
        /// `meta-data/local-ipv4`.
        public var localIPv4: String?
        /// `meta-data/public-ipv4`.
        public var publicIPv4: String?
        /// `meta-data/local-hostname`.
        public var localHostname: String?
        /// `meta-data/public-hostname`.
        public var publicHostname: String?

        /// Creates network facts.
        public init(localIPv4: String? = nil, publicIPv4: String? = nil, localHostname: String? = nil, publicHostname: String? = nil) {
            self.localIPv4 = localIPv4
            self.publicIPv4 = publicIPv4
            self.localHostname = localHostname
            self.publicHostname = publicHostname
        }
    }

    /// The service's base URL (`…/latest`), without a trailing slash.
    public let base: String
    private let client: HTTPClient
    private let attempts: Int
    private let tokenTimeout: Duration
    private var token: String??

    /// Creates a reader of the service at `base` (for example `http://169.254.169.254/latest`).
    ///
    /// - Parameter tokenTimeout: how long to wait for an IMDSv2 session token before reading without one (a
    ///   container whose hop limit drops the answer never gets it; a read refused for want of a token asks again).
    public init(base: String, client: HTTPClient = .shared, attempts: Int = 5, tokenTimeout: Duration = .seconds(3)) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.client = client
        self.attempts = max(1, attempts)
        self.tokenTimeout = tokenTimeout
    }

    /// The instance's userdata, or `nil` when it has none.
    public func userdata() async throws(AgentError) -> Data? { try await get("/user-data") }

    /// `meta-data/ami-launch-index`.
    public func launchIndex() async throws(AgentError) -> Int? { try await text("/meta-data/ami-launch-index").flatMap { Int($0) } }

    /// The node's addresses and host names.
    public func network() async throws(AgentError) -> Network {
        Network(
            localIPv4: try await text("/meta-data/local-ipv4"),
            publicIPv4: try await text("/meta-data/public-ipv4"),
            localHostname: try await text("/meta-data/local-hostname"),
            publicHostname: try await text("/meta-data/public-hostname")
        )
    }

    /// A metadata value as trimmed text; `nil` when absent or empty.
    public func text(_ path: String) async throws(AgentError) -> String? {
        guard let data = try await get(path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// The IMDSv2 session token, fetched once; `nil` when the service offers none (IMDSv1).
    private func sessionToken() async -> String? {
        if let token { return token }
        var request = HTTPClientRequest(url: base + "/api/token")
        request.method = .PUT
        request.headers.add(name: "X-aws-ec2-metadata-token-ttl-seconds", value: "21600")
        var fetched: String?
        if let response = try? await client.execute(request, timeout: .init(tokenTimeout)), response.status == .ok,
            let body = try? await response.body.collect(upTo: 4096)
        {
            fetched = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        token = .some(fetched)
        return fetched
    }

    private func get(_ path: String) async throws(AgentError) -> Data? {
        var attempt = 0
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: base + path)
            if let token = await sessionToken() { request.headers.add(name: "X-aws-ec2-metadata-token", value: token) }
            do {
                let response = try await client.execute(request, timeout: .seconds(5))
                if response.status == .notFound { return nil }
                if response.status == .unauthorized, attempt < attempts {
                    // The session token expired: get a new one.
                    token = nil
                    continue
                }
                guard response.status == .ok else { throw AgentError.input("GET \(base + path) answered \(response.status)") }
                let body = try await response.body.collect(upTo: 1 << 20)
                return Data(body.readableBytesView)
            } catch let error as AgentError {
                throw error
            } catch {
                guard attempt < attempts else {
                    throw AgentError.environment("cannot read \(base + path) from the instance metadata service: \(error)")
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
