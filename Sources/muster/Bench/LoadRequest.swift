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
        post(path, body: try encoder.encode(body), contentType: "application/json", token: token, at: endpoint)
    }

    /// A `POST` to `path` of `body`, of type `contentType`.
    static func post(_ path: String, body: Data, contentType: String, token: String, at endpoint: LoadEndpoint) -> LoadRequest {
        LoadRequest(
            method: "POST",
            target: path,
            token: token,
            accept: "application/json",
            headers: [],
            body: (body, contentType),
            endpoint: endpoint
        )
    }

    private init(
        method: String,
        target: String,
        token: String?,
        accept: String,
        headers: [(name: String, value: String)],
        body: (bytes: Data, type: String)?,
        endpoint: LoadEndpoint
    ) {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(endpoint.authority)\r\nUser-Agent: muster-bench\r\nAccept: \(accept)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        if let body { head += "Content-Type: \(body.type)\r\nContent-Length: \(body.bytes.count)\r\n" }
        head += "\r\n"
        var bytes = ByteBuffer()
        bytes.reserveCapacity(head.utf8.count + (body?.bytes.count ?? 0))
        bytes.writeString(head)
        if let body { bytes.writeBytes(body.bytes) }
        self.bytes = bytes
        summary = "\(method) \(target.prefix { $0 != "?" })"
    }
}
