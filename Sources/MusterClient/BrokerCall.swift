import Foundation
import MusterCore
import NIOCore

/// One request to the broker, before it is sent: what ``BrokerConnection`` turns into HTTP, retries and decodes.
struct BrokerCall: Sendable {
    /// The HTTP methods the broker API uses.
    enum Method: String, Sendable {
        case GET
        case POST
        case DELETE
    }

    /// Whether a call may be sent again after a failure that leaves open whether the broker acted on it.
    enum Safety: Sendable {
        /// Sending it twice has the effect of sending it once (reads, and the agent calls the broker deduplicates).
        case idempotent
        /// Sending it twice may act twice (operator actions): retried only if it provably never left.
        case unsafe
    }

    var method: Method
    var path: String
    var query: [(name: String, value: String)]
    var body: ByteBuffer?
    var contentType: String?
    var accept: String
    var token: String?
    var safety: Safety
    /// How long to wait for the response head; `nil` for ``BrokerConfiguration/Timeouts/request``.
    var timeout: Duration?

    init(
        _ method: Method,
        _ path: String,
        query: [(name: String, value: String)] = [],
        token: String? = nil,
        safety: Safety,
        accept: String = "application/json"
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.token = token
        self.safety = safety
        self.accept = accept
    }

    /// The call with a JSON body.
    func json(_ value: some Encodable) throws(BrokerClientError) -> BrokerCall {
        var call = self
        do {
            call.body = ByteBuffer(bytes: try WireFormat.encoder().encode(value))
        } catch {
            throw BrokerClientError(
                code: .invalidConfiguration,
                message: "cannot encode the body of \(self): \(error)",
                request: "\(self)",
                underlying: error
            )
        }
        call.contentType = "application/json"
        return call
    }

    /// The call with a raw body.
    func body(_ bytes: Data, contentType: String) -> BrokerCall {
        var call = self
        call.body = ByteBuffer(bytes: bytes)
        call.contentType = contentType
        return call
    }

    /// The path with its query string.
    var target: String {
        guard !query.isEmpty else { return path }
        return path + "?" + query.map { "\(BrokerRoutes.escape($0.name))=\(BrokerRoutes.escape($0.value))" }.joined(separator: "&")
    }
}

extension BrokerCall: CustomStringConvertible {
    /// `METHOD /path` (without the query, which may be long).
    var description: String { "\(method.rawValue) \(path)" }
}

/// A broker's successful answer.
struct BrokerReply: Sendable {
    var status: Int
    var body: ByteBuffer
}
