import Foundation
import NIOCore

/// One HTTP/1.1 request encoded once, head and body, ready to be written as often as it is sent (a long-poll is
/// sent again unchanged until it is answered).
///
/// The head carries what MusterClient sends: `Host`, `User-Agent`, `Accept`, the bearer token and, with a body,
/// `Content-Type` and `Content-Length`; the connection stays open (HTTP/1.1 keep-alive).
struct LoadRequest: Sendable {
    /// The whole request as it goes on the wire.
    let bytes: ByteBuffer
    /// `METHOD /path`, for messages.
    let summary: String

    /// A `GET` of `target` (path and query), with `headers` besides the usual ones.
    static func get(
        _ target: String,
        token: String? = nil,
        accept: String = "application/json",
        headers: [(name: String, value: String)] = [],
        at endpoint: LoadEndpoint
    ) -> LoadRequest {
        LoadRequest(method: "GET", target: target, token: token, accept: accept, headers: headers, body: nil, endpoint: endpoint)
    }

    /// A `POST` to `path` of `body` as the wire's JSON, encoded by `encoder` (a ``WireFormat`` encoder).
    static func post(_ path: String, json body: some Encodable, token: String, encoder: JSONEncoder, at endpoint: LoadEndpoint) throws -> LoadRequest
    {
        LoadRequest(
            method: "POST",
            target: path,
            token: token,
            accept: "application/json",
            headers: [],
            body: try encoder.encode(body),
            endpoint: endpoint
        )
    }

    private init(
        method: String,
        target: String,
        token: String?,
        accept: String,
        headers: [(name: String, value: String)],
        body: Data?,
        endpoint: LoadEndpoint
    ) {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(endpoint.authority)\r\nUser-Agent: muster-bench\r\nAccept: \(accept)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        var bytes = ByteBuffer()
        bytes.reserveCapacity(head.utf8.count + (body?.count ?? 0))
        bytes.writeString(head)
        if let body { bytes.writeBytes(body) }
        self.bytes = bytes
        summary = "\(method) \(target.prefix { $0 != "?" })"
    }
}
