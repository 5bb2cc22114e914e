import Foundation
import MusterBroker
import MusterSystem

/// The tests' PostgreSQL: a throwaway server per test (``MusterSystem/ThrowawayPostgres``); it fails (never skips)
/// when PostgreSQL is not installed, since `.ci/run` installs it.
typealias PostgresServer = ThrowawayPostgres

extension ThrowawayPostgres {
    /// The URL of `database` on this server (through its socket).
    func url(database: String = "postgres", password: String? = nil) throws -> PostgresStoreURL {
        try PostgresStoreURL(urlText(database: database, password: password))
    }

    /// Creates a database and returns its URL.
    func createDatabase() async throws -> PostgresStoreURL {
        try url(database: try await createDatabaseNamed())
    }
}
