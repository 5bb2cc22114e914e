import Foundation

/// Where a ``PostgresStore`` connects: a libpq-style URL,
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…&sslrootcert=FILE&host=/SOCKET/DIR]`.
///
/// `sslmode` takes libpq's values: `disable`, `prefer` (the default: TLS when the server offers it, unverified),
/// `require` (TLS, unverified unless `sslrootcert` is given), `verify-ca` (the chain must reach the trusted roots)
/// and `verify-full` (also the host name). `host=/path` in the query (or a host that is a path) connects through
/// the Unix socket in that folder, as libpq does. The password is kept here and never shown: ``redacted`` is the
/// form for messages and logs.
public struct PostgresStoreURL: Sendable, Hashable, CustomStringConvertible {
    /// How much TLS the connection asks for (libpq's `sslmode`).
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable
        case prefer
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// The user name.
    public var user: String
    /// The password, if the URL has one.
    public var password: String?
    /// The server's host name or address (TCP), when not a socket.
    public var host: String?
    /// The TCP port, or the number in the socket's file name.
    public var port: Int
    /// The folder of the server's Unix socket, when connecting through one.
    public var socketDirectory: String?
    /// The database.
    public var database: String
    /// The TLS mode.
    public var tlsMode: TLSMode
    /// A PEM file of the certificate authorities to trust for the server's certificate.
    public var rootCertificate: String?

    /// Parses a `postgres://` or `postgresql://` URL.
    ///
    /// - Throws: ``StoreError`` saying what is wrong, without the password.
    public init(_ text: String) throws(StoreError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw StoreError("'\(Self.redact(text))' is not a PostgreSQL URL; expected postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let known: Set<String> = ["sslmode", "sslrootcert", "host", "port", "user", "password", "dbname", "application_name", "connect_timeout"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw StoreError("the PostgreSQL URL has an unknown parameter '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        let user = query["user"] ?? components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        guard !user.isEmpty else { throw StoreError("the PostgreSQL URL names no user") }
        self.user = user
        self.password = query["password"] ?? components.password.flatMap { $0.removingPercentEncoding }
        let hostText = query["host"] ?? components.host.flatMap { $0.removingPercentEncoding }
        if let hostText, hostText.hasPrefix("/") {
            socketDirectory = hostText
            host = nil
        } else {
            guard let hostText, !hostText.isEmpty else {
                throw StoreError("the PostgreSQL URL names no host (give HOST, or ?host=/socket/folder for a Unix socket)")
            }
            host = hostText
            socketDirectory = nil
        }
        if let portText = query["port"] {
            guard let value = Int(portText), (1...65_535).contains(value) else {
                throw StoreError("the PostgreSQL URL's port '\(portText)' is not a port")
            }
            port = value
        } else {
            port = components.port ?? 5432
        }
        var path = components.percentEncodedPath
        if path.hasPrefix("/") { path.removeFirst() }
        database = query["dbname"] ?? path.removingPercentEncoding ?? path
        guard !database.isEmpty else { throw StoreError("the PostgreSQL URL names no database (postgres://…/DATABASE)") }
        if let mode = query["sslmode"] {
            guard let value = TLSMode(rawValue: mode) else {
                throw StoreError(
                    "the PostgreSQL URL's sslmode '\(mode)' is not one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            tlsMode = value
        } else {
            tlsMode = .prefer
        }
        rootCertificate = query["sslrootcert"].flatMap { $0.isEmpty ? nil : $0 }
        if socketDirectory != nil, tlsMode == .require || tlsMode == .verifyCA || tlsMode == .verifyFull {
            throw StoreError("sslmode=\(tlsMode.rawValue) cannot be used over a Unix socket; use a TCP host for TLS")
        }
    }

    /// Whether `text` looks like a PostgreSQL URL (as opposed to a file path).
    public static func isPostgres(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// The socket file for a socket connection: `<folder>/.s.PGSQL.<port>`.
    public var socketPath: String? {
        socketDirectory.map { ($0 as NSString).appendingPathComponent(".s.PGSQL.\(port)") }
    }

    /// The URL with its password masked, for messages and logs.
    public var redacted: String {
        let credentials = password == nil ? user : "\(user):***"
        let place = socketDirectory.map { "?host=\($0)" } ?? ""
        let hostPart = host.map { $0.contains(":") ? "[\($0)]:\(port)" : "\($0):\(port)" } ?? ""
        let modePart = (place.isEmpty ? "?" : "&") + "sslmode=\(tlsMode.rawValue)"
        return "postgres://\(credentials)@\(hostPart)/\(database)\(place)\(modePart)"
    }

    public var description: String { redacted }

    /// Masks the password of a URL that could not be parsed (anything between `:` and `@` after the scheme).
    static func redact(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text.range(of: "@", range: scheme.upperBound..<text.endIndex) else { return text }
        let credentials = text[scheme.upperBound..<at.lowerBound]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at.lowerBound...])
    }
}
