import Foundation
import GRDB
import Logging
import MusterCore

/// The broker's embedded state: one SQLite file in WAL mode, written through GRDB.
///
/// WAL with `synchronous=NORMAL` makes each commit durable against a crash of the broker process (even
/// `kill -9`) without an fsync per request; a power loss may lose the last commits, never corrupt the file.
/// The file holds the cluster documents, data values included, so it is created readable by its owner only.
/// The log is copied back into the file off the commit path (``SQLiteCheckpointer``).
public final class SQLiteStore: BrokerStore {
    private let pool: DatabasePool
    /// Held for the pool's life: the writer's WAL hook refers to it without retaining it.
    private let checkpointer: SQLiteCheckpointer
    public var kind: String { "sqlite" }
    private let decoder = WireFormat.decoder()
    /// Commands are stored with the engine's own Codable form (not the wire form), so replay is exact
    /// (``EngineCommand/storedJSON()``).
    private let commandDecoder = JSONDecoder()

    /// Opens (creating if needed) the state file at `path`; `logger` hears of checkpoints.
    public init(path: String, logger: Logger = Logger(label: "muster.store")) throws(StoreError) {
        let checkpointer = SQLiteCheckpointer(path: path, logger: logger)
        self.checkpointer = checkpointer
        do {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            var configuration = Configuration()
            configuration.label = "muster-broker"
            configuration.busyMode = .timeout(5)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                checkpointer.install(on: db)
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("cannot open the state database \(path): \(error)")
        }
    }

    /// GRDB's synchronous read, called from a synchronous context so that the async overload (which would
    /// suspend and let another change in) is never chosen.
    private func readNow<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    /// GRDB's synchronous write (see ``readNow(_:)``).
    private func writeNow(_ body: (Database) throws -> Void) throws {
        try pool.write(body)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
                    CREATE TABLE commands (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, body BLOB NOT NULL);
                    CREATE TABLE events (sequence INTEGER PRIMARY KEY, context TEXT NOT NULL, body BLOB NOT NULL);
                    CREATE INDEX events_by_context ON events(context, sequence);
                    CREATE TABLE node_tokens (
                        context TEXT NOT NULL, node TEXT NOT NULL, generation INTEGER NOT NULL, hash BLOB NOT NULL,
                        PRIMARY KEY (context, node)
                    ) WITHOUT ROWID;
                    CREATE TABLE output (
                        context TEXT NOT NULL, node TEXT NOT NULL, generation INTEGER NOT NULL, idx INTEGER NOT NULL,
                        time REAL NOT NULL, phase INTEGER NOT NULL, script TEXT NOT NULL, stream TEXT NOT NULL, text TEXT NOT NULL,
                        PRIMARY KEY (context, node, generation, idx)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v2 snapshots") { db in
            try db.execute(
                sql: """
                    CREATE TABLE snapshots (id INTEGER PRIMARY KEY CHECK (id = 1), last_sequence INTEGER NOT NULL, body BLOB NOT NULL);
                    CREATE INDEX output_by_context ON output(context);
                    CREATE INDEX node_tokens_by_context ON node_tokens(context);
                    """
            )
        }
        return migrator
    }

    public nonisolated(nonsending) func load() async throws(StoreError) -> StoredState {
        do {
            return try readNow { db in
                var state = StoredState()
                if let row = try Row.fetchOne(db, sql: "SELECT last_sequence, body FROM snapshots WHERE id = 1") {
                    let sequence: Int64 = row["last_sequence"]
                    state.snapshot = EngineSnapshot(body: row["body"], lastSequence: UInt64(sequence))
                }
                for row in try Row.fetchAll(db, sql: "SELECT time, body FROM commands ORDER BY id") {
                    let body: Data = row["body"]
                    let command = try commandDecoder.decode(EngineCommand.self, from: body)
                    state.commands.append(StoredCommand(command: command, time: Date(timeIntervalSince1970: row["time"])))
                }
                if let hash = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'operator-token-hash'") {
                    state.operatorTokenHash = [UInt8](hash)
                }
                for row in try Row.fetchAll(db, sql: "SELECT context, node, generation, hash FROM node_tokens") {
                    let hash: Data = row["hash"]
                    state.nodeTokens.append(
                        NodeTokenRecord(
                            context: ContextID(row["context"] as String),
                            node: row["node"],
                            generation: row["generation"],
                            hash: [UInt8](hash)
                        )
                    )
                }
                let counts = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT context, node, generation, MIN(idx) AS first, MAX(idx) + 1 AS count,
                            SUM(length(CAST(text AS BLOB))) AS bytes
                        FROM output GROUP BY context, node, generation
                        """
                )
                for row in counts {
                    state.outputCounts.append(
                        OutputCount(
                            context: ContextID(row["context"] as String),
                            node: row["node"],
                            generation: row["generation"],
                            count: row["count"],
                            first: row["first"],
                            bytes: row["bytes"]
                        )
                    )
                }
                if let key = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'digest-key'") {
                    state.digestKey = [UInt8](key)
                }
                state.lastSequence = UInt64(try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM events") ?? 0)
                return state
            }
        } catch {
            throw StoreError("cannot read the state database: \(error)")
        }
    }

    public nonisolated(nonsending) func commit(_ batch: StoreBatch) async throws(StoreError) {
        guard !batch.isEmpty else { return }
        do {
            try writeNow { db in
                for context in batch.deletedContexts {
                    for table in ["events", "output", "node_tokens"] {
                        try db.execute(sql: "DELETE FROM \(table) WHERE context = ?", arguments: [context.rawValue])
                    }
                }
                if !batch.commands.isEmpty {
                    let statement = try db.cachedStatement(sql: "INSERT INTO commands (time, body) VALUES (?, ?)")
                    for stored in batch.commands {
                        try statement.execute(arguments: [stored.time.timeIntervalSince1970, Data(try stored.command.storedJSON())])
                    }
                }
                if !batch.events.isEmpty {
                    let statement = try db.cachedStatement(sql: "INSERT INTO events (sequence, context, body) VALUES (?, ?, ?)")
                    for event in batch.events {
                        try statement.execute(arguments: [Int64(event.sequence), event.context.rawValue, Data(try event.wireJSON())])
                    }
                }
                if !batch.nodeTokens.isEmpty {
                    let statement = try db.cachedStatement(
                        sql: "INSERT OR REPLACE INTO node_tokens (context, node, generation, hash) VALUES (?, ?, ?, ?)"
                    )
                    for token in batch.nodeTokens {
                        try statement.execute(arguments: [token.context.rawValue, token.node, token.generation, Data(token.hash)])
                    }
                }
                if !batch.outputTrims.isEmpty {
                    let statement = try db.cachedStatement(sql: "DELETE FROM output WHERE context = ? AND node = ? AND generation = ? AND idx < ?")
                    for trim in batch.outputTrims {
                        try statement.execute(arguments: [trim.context.rawValue, trim.node, trim.generation, trim.before])
                    }
                }
                if !batch.output.isEmpty {
                    let statement = try db.cachedStatement(
                        sql: """
                            INSERT OR REPLACE INTO output (context, node, generation, idx, time, phase, script, stream, text)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """
                    )
                    for group in batch.output {
                        for line in group.lines {
                            try statement.execute(arguments: [
                                group.context.rawValue, group.node, group.generation, line.index, line.time.timeIntervalSince1970, line.phase,
                                line.script, line.stream.rawValue, line.text,
                            ])
                        }
                    }
                }
                if let hash = batch.operatorTokenHash {
                    try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('operator-token-hash', ?)", arguments: [Data(hash)])
                }
                if let key = batch.digestKey {
                    try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('digest-key', ?)", arguments: [Data(key)])
                }
                if let snapshot = batch.snapshot {
                    try db.execute(sql: "DELETE FROM commands")
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO snapshots (id, last_sequence, body) VALUES (1, ?, ?)",
                        arguments: [Int64(snapshot.lastSequence), snapshot.body]
                    )
                }
            }
        } catch {
            throw StoreError("cannot write the state database: \(error)")
        }
    }

    public nonisolated(nonsending) func events(after: UInt64, context: ContextID?, limit: Int) async throws(StoreError) -> [ContextEvent] {
        do {
            return try readNow { db in
                let rows: [Data]
                if let context {
                    rows = try Data.fetchAll(
                        db,
                        sql: "SELECT body FROM events WHERE context = ? AND sequence > ? ORDER BY sequence LIMIT ?",
                        arguments: [context.rawValue, Int64(after), limit]
                    )
                } else {
                    rows = try Data.fetchAll(
                        db,
                        sql: "SELECT body FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?",
                        arguments: [Int64(after), limit]
                    )
                }
                return try rows.map { try decoder.decode(ContextEvent.self, from: $0) }
            }
        } catch {
            throw StoreError("cannot read events: \(error)")
        }
    }

    public nonisolated(nonsending) func output(
        context: ContextID,
        node: String,
        generation: Int,
        from: Int,
        limit: Int,
        maxBytes: Int
    ) async throws(StoreError) -> [OutputLine] {
        do {
            return try readNow { db in
                var lines: [OutputLine] = []
                var bytes = 0
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT idx, time, phase, script, stream, text FROM output
                        WHERE context = ? AND node = ? AND generation = ? AND idx >= ? ORDER BY idx LIMIT ?
                        """,
                    arguments: [context.rawValue, node, generation, from, limit]
                )
                while let row = try rows.next() {
                    let text: String = row["text"]
                    if !lines.isEmpty && bytes + text.utf8.count > maxBytes { break }
                    bytes += text.utf8.count
                    lines.append(
                        OutputLine(
                            index: row["idx"],
                            time: Date(timeIntervalSince1970: row["time"]),
                            phase: row["phase"],
                            script: row["script"],
                            stream: OutputStream(rawValue: row["stream"]) ?? .stdout,
                            text: text
                        )
                    )
                }
                return lines
            }
        } catch {
            throw StoreError("cannot read output: \(error)")
        }
    }

    public nonisolated(nonsending) func outputLineSizes(
        context: ContextID,
        node: String,
        generation: Int,
        from: Int,
        limit: Int
    ) async throws(StoreError) -> [(index: Int, bytes: Int)] {
        do {
            return try readNow { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT idx, length(CAST(text AS BLOB)) AS bytes FROM output
                        WHERE context = ? AND node = ? AND generation = ? AND idx >= ? ORDER BY idx LIMIT ?
                        """,
                    arguments: [context.rawValue, node, generation, from, limit]
                ).map { (index: $0["idx"], bytes: $0["bytes"]) }
            }
        } catch {
            throw StoreError("cannot read output sizes: \(error)")
        }
    }
}
