import NIOSSL
import PostgresNIO

extension PostgresStoreURL {
    /// The TLS settings libpq's `sslmode` stands for: `prefer` and `require` do not verify the server (as in
    /// libpq) unless `sslrootcert` names the authorities to trust; `verify-ca` checks the chain and `verify-full`
    /// the host name too.
    func tlsConfiguration() throws(StoreError) -> NIOSSL.TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        let verifies = tlsMode == .verifyCA || tlsMode == .verifyFull || rootCertificate != nil
        if verifies {
            tls.certificateVerification = tlsMode == .verifyFull ? .fullVerification : .noHostnameVerification
            if let rootCertificate {
                do {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificate))
                } catch {
                    throw StoreError("cannot read sslrootcert \(rootCertificate): \(error) (a PEM file of certificates is expected)")
                }
            }
        } else {
            tls.certificateVerification = .none
        }
        return tls
    }

    /// The pool's configuration: at most `connections` connections.
    func clientConfiguration(connections: Int) throws(StoreError) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketPath {
            configuration = .init(unixSocketPath: socketPath, username: user, password: password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch tlsMode {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try tlsConfiguration())
            case .require, .verifyCA, .verifyFull: tls = .require(try tlsConfiguration())
            }
            configuration = .init(host: host ?? "localhost", port: port, username: user, password: password, database: database, tls: tls)
        }
        configuration.options.maximumConnections = max(2, connections)
        configuration.options.minimumConnections = 1
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "muster-broker")]
        return configuration
    }

    /// One connection's configuration, for the first contact (whose error says exactly what is wrong).
    func connectionConfiguration() throws(StoreError) -> PostgresConnection.Configuration {
        if let socketPath {
            return .init(unixSocketPath: socketPath, username: user, password: password, database: database)
        }
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch tlsMode {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: try tlsConfiguration()))
            case .require, .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: try tlsConfiguration()))
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("cannot set up TLS to PostgreSQL: \(error)")
        }
        return .init(host: host ?? "localhost", port: port, username: user, password: password, database: database, tls: tls)
    }
}

/// What a PostgreSQL failure says, for a person: the error's kind, the server's message and SQLSTATE, the
/// underlying transport error. Never the query's bound values (which may be data values) nor the server's
/// `detail` (which may quote them).
enum PostgresErrorText {
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            var parts = ["\(error.code)"]
            if let message = error.serverInfo?[.message] { parts.append(message) }
            if let state = error.serverInfo?[.sqlState] { parts.append("SQLSTATE \(state)") }
            if let underlying = error.underlying { parts.append(describe(underlying)) }
            return parts.joined(separator: ": ")
        }
        if let error = error as? PostgresTransactionError {
            if let inner = error.closureError ?? error.commitError ?? error.beginError { return describe(inner) }
            return "the transaction failed"
        }
        return "\(error)"
    }
}
