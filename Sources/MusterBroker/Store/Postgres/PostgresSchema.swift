import Logging
import PostgresNIO

/// The PostgreSQL store's tables, as numbered migrations applied at start.
///
/// Every table is prefixed `muster_` so that the broker can share a database with other applications. The
/// migrations run in one transaction under an advisory lock, so that replicas starting at once apply each
/// exactly once; a database whose schema is newer than this broker knows is refused.
enum PostgresSchema {
    /// One migration: its number, a name for people, and its statements.
    struct Migration: Sendable {
        var version: Int
        var name: String
        var statements: [String]
    }

    /// Every migration, oldest first. Append only: a released migration never changes.
    static let migrations: [Migration] = [
        Migration(
            version: 1,
            name: "command log, events, tokens, output",
            statements: [
                "CREATE TABLE muster_meta (key text PRIMARY KEY, value bytea NOT NULL)",
                "CREATE TABLE muster_commands (id bigint PRIMARY KEY, time double precision NOT NULL, body bytea NOT NULL)",
                "CREATE TABLE muster_events (sequence bigint PRIMARY KEY, context text NOT NULL, body bytea NOT NULL)",
                "CREATE INDEX muster_events_by_context ON muster_events (context, sequence)",
                """
                CREATE TABLE muster_node_tokens (
                    context text NOT NULL, node text NOT NULL, generation bigint NOT NULL, hash bytea NOT NULL,
                    PRIMARY KEY (context, node)
                )
                """,
                """
                CREATE TABLE muster_output (
                    context text NOT NULL, node text NOT NULL, generation bigint NOT NULL, idx bigint NOT NULL,
                    time double precision NOT NULL, phase bigint NOT NULL, script bytea NOT NULL, stream text NOT NULL,
                    text bytea NOT NULL,
                    PRIMARY KEY (context, node, generation, idx)
                )
                """,
            ]
        ),
        Migration(
            version: 2,
            name: "snapshots; deleting a context",
            statements: [
                """
                CREATE TABLE muster_snapshots (
                    id int PRIMARY KEY CHECK (id = 1), command_id bigint NOT NULL, last_sequence bigint NOT NULL, body bytea NOT NULL
                )
                """,
                "CREATE INDEX muster_output_by_context ON muster_output (context)",
            ]
        ),
        Migration(
            version: 3,
            name: "the change log replicas follow",
            statements: [
                "CREATE TABLE muster_changes (id bigint PRIMARY KEY, committed double precision NOT NULL, body bytea NOT NULL)"
            ]
        ),
    ]

    /// The advisory lock key that serializes migrations between replicas ("muster" in ASCII).
    static let lockKey: Int64 = 0x6D75_7374_6572

    /// Brings the database's schema up to date; returns the versions applied now (none when it was current).
    static func migrate(on connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS muster_schema_migrations (
                    version bigint PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            var applied: Set<Int> = []
            let rows = try await connection.query("SELECT version FROM muster_schema_migrations", logger: logger)
            for try await version in rows.decode(Int.self) { applied.insert(version) }
            let known = Set(migrations.map(\.version))
            if let newer = applied.subtracting(known).max() {
                throw PostgresSchemaError(
                    "the database's schema is at version \(newer), newer than this broker knows (\(known.max() ?? 0)); upgrade muster"
                )
            }
            var now: [Int] = []
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await connection.query(
                    "INSERT INTO muster_schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger
                )
                now.append(migration.version)
            }
            return now
        }
    }
}

/// A schema the broker cannot use.
struct PostgresSchemaError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
