import NIOCore

/// Where the load generator connects: the host and port of a plain-HTTP broker URL (`http://127.0.0.1:8080`),
/// and the socket address they resolve to, resolved once (not on every one of thousands of connections).
struct LoadEndpoint: Sendable {
    var host: String
    var port: Int
    var address: SocketAddress

    /// The `Host` header's value.
    var authority: String { "\(host):\(port)" }

    /// The endpoint of `url`, which must be `http://HOST:PORT` with an optional trailing slash; the load generator
    /// speaks plain HTTP only (the bench broker listens on loopback without TLS).
    init(url: String) throws(LoadFailure) {
        guard url.hasPrefix("http://") else { throw LoadFailure("the load generator speaks plain HTTP only, not \(url)") }
        var rest = url.dropFirst("http://".count)
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), !rest[..<colon].isEmpty else {
            throw LoadFailure("the broker URL \(url) has no host and port")
        }
        host = String(rest[..<colon])
        self.port = port
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        do {
            address = try SocketAddress.makeAddressResolvingHost(name, port: port)
        } catch {
            throw LoadFailure("cannot resolve the broker's host \(host): \(error)")
        }
    }
}
