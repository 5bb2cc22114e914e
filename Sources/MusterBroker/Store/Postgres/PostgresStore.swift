import Foundation
import Logging
import MusterCore
import NIOCore
import PostgresNIO
import Synchronization

/// The broker's state in a PostgreSQL database, through a pool of postgres-nio connections.
///
/// The same contract as ``SQLiteStore``: each ``commit(_:)`` is one transaction, made durable by the server
/// before it returns. Commands carry their position in the log as their key, so a commit that would not follow
/// the last command this store knows of (another writer got there first) fails instead of interleaving.
///
/// Open it with ``open(_:connections:logger:)``; ``close()`` ends the pool.
public final class PostgresStore: BrokerStore {
    public var kind: String { "postgres" }
    /// Where it connects (password masked in every message).
    public let url: PostgresStoreURL
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    /// The connection that holds the database's broker lock for as long as the store is open.
    private let lockHolder: PostgresConnection
    private let logger: Logger
    /// The id of the last command in the log, as of the last load or commit.
    private let lastCommand = Mutex<Int64>(0)
    /// Commands are stored with the engine's own Codable form (not the wire form), so replay is exact.
    private let commandEncoder = JSONEncoder()
    private let commandDecoder = JSONDecoder()
    private let encoder = WireFormat.encoder()
    private let decoder = WireFormat.decoder()

    private init(url: PostgresStoreURL, client: PostgresClient, runner: Task<Void, Never>, lockHolder: PostgresConnection, logger: Logger) {
        self.url = url
        self.client = client
        self.runner = runner
        self.lockHolder = lockHolder
        self.logger = logger
    }

    /// Connects, applies the schema's migrations, and returns the store.
    ///
    /// The first contact is one plain connection, so that a wrong address, password or database is reported as
    /// PostgreSQL says it, within `timeout`; the pool takes over after it. That connection then holds a session
    /// advisory lock for as long as the store is open: one broker per database, as one per state folder, until
    /// brokers can share one (a second is refused with ``StoreError/inUse``).
    ///
    /// - Parameters:
    ///   - connections: the most connections the pool opens.
    ///   - timeout: how long the first contact may take.
    ///   - exclusive: whether to take the database's broker lock (what a broker does; tools that only read, and
    ///     tests that open a second store on the same data, do not).
    ///   - standby: whether to wait for the lock while another broker holds it (a standby that takes over when
    ///     that broker stops or its machine is lost), rather than refusing.
    public static func open(
        _ url: PostgresStoreURL,
        connections: Int = 8,
        timeout: Duration = .seconds(15),
        exclusive: Bool = true,
        standby: Bool = false,
        logger: Logger
    ) async throws(StoreError) -> PostgresStore {
        let quiet = {
            var quiet = logger
            quiet.logLevel = max(logger.logLevel, .warning)
            return quiet
        }()
        let where_ = url.redacted
        let lockHolder: PostgresConnection
        do {
            let configuration = try url.connectionConfiguration()
            lockHolder = try await withTimeout(timeout, what: "connecting to PostgreSQL at \(where_)") {
                try await PostgresConnection.connect(configuration: configuration, id: 0, logger: quiet)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("cannot connect to PostgreSQL at \(where_): \(PostgresErrorText.describe(error))")
        }
        do {
            var locked = !exclusive
            if exclusive {
                let rows = try await lockHolder.query("SELECT pg_try_advisory_lock(\(brokerLockKey))", logger: quiet)
                for try await value in rows.decode(Bool.self) { locked = value }
            }
            if !locked && standby {
                logger.notice("standby: another broker serves the database; waiting to take over", metadata: ["database": "\(where_)"])
                // Held by the server until the other broker's session ends (it stopped, or its connection was lost).
                try await lockHolder.query("SELECT pg_advisory_lock(\(brokerLockKey))", logger: quiet)
                locked = true
                logger.notice("standby: taking over the database", metadata: ["database": "\(where_)"])
            }
            guard locked else {
                try? await lockHolder.close()
                throw StoreError(
                    "another broker serves the PostgreSQL database \(where_); one broker per database (stop the other, or use another database)",
                    inUse: true
                )
            }
        } catch let error as StoreError {
            throw error
        } catch {
            try? await lockHolder.close()
            throw StoreError("cannot take the broker lock in PostgreSQL at \(where_): \(PostgresErrorText.describe(error))")
        }
        // The pool starts running now; the migrations go over the lock's own connection meanwhile, so the pool is
        // first asked for a connection once it runs.
        let client = PostgresClient(configuration: try url.clientConfiguration(connections: connections), backgroundLogger: quiet)
        let runner = Task { await client.run() }
        let store = PostgresStore(url: url, client: client, runner: runner, lockHolder: lockHolder, logger: quiet)
        do {
            let applied = try await PostgresSchema.migrate(on: lockHolder, logger: quiet)
            if !applied.isEmpty {
                logger.info("PostgreSQL schema migrated", metadata: ["database": "\(where_)", "versions": "\(applied)"])
            }
        } catch {
            await store.close()
            if let error = error as? PostgresSchemaError { throw StoreError("PostgreSQL at \(where_): \(error.description)") }
            throw StoreError("cannot prepare the PostgreSQL schema at \(where_): \(PostgresErrorText.describe(error))")
        }
        return store
    }

    /// Ends the connection pool; the store cannot be used afterwards.
    public func close() async {
        runner.cancel()
        await runner.value
        // Released explicitly, so that a broker started right after this one finds the database free (the server
        // ends a closed session's locks only when its backend has exited).
        _ = try? await lockHolder.query("SELECT pg_advisory_unlock_all()", logger: logger)
        try? await lockHolder.close()
    }

    /// The session advisory lock held by the broker serving a database ("muster-b" in ASCII).
    static let brokerLockKey: Int64 = 0x6D75_7374_6572_2D62

    // MARK: Reading the state

    public nonisolated(nonsending) func load() async throws(StoreError) -> StoredState {
        do {
            return try await client.withConnection { connection in
                var state = StoredState()
                var last: Int64 = 0
                let snapshot = try await connection.query("SELECT command_id, last_sequence, body FROM muster_snapshots WHERE id = 1", logger: logger)
                for try await (commandID, sequence, body) in snapshot.decode((Int64, Int64, ByteBuffer).self) {
                    state.snapshot = EngineSnapshot(body: Data(body.readableBytesView), lastSequence: UInt64(max(0, sequence)))
                    last = commandID
                }
                let commands = try await connection.query("SELECT id, time, body FROM muster_commands ORDER BY id", logger: logger)
                for try await (id, time, body) in commands.decode((Int64, Double, ByteBuffer).self) {
                    let command = try commandDecoder.decode(EngineCommand.self, from: Data(body.readableBytesView))
                    state.commands.append(StoredCommand(command: command, time: Date(timeIntervalSince1970: time)))
                    last = id
                }
                let meta = try await connection.query("SELECT key, value FROM muster_meta", logger: logger)
                for try await (key, value) in meta.decode((String, ByteBuffer).self) {
                    switch key {
                    case "operator-token-hash": state.operatorTokenHash = Array(value.readableBytesView)
                    case "digest-key": state.digestKey = Array(value.readableBytesView)
                    default: break
                    }
                }
                let tokens = try await connection.query("SELECT context, node, generation, hash FROM muster_node_tokens", logger: logger)
                for try await (context, node, generation, hash) in tokens.decode((String, String, Int, ByteBuffer).self) {
                    state.nodeTokens.append(
                        NodeTokenRecord(context: ContextID(context), node: node, generation: generation, hash: Array(hash.readableBytesView))
                    )
                }
                let counts = try await connection.query(
                    """
                    SELECT context, node, generation, MIN(idx), MAX(idx) + 1, SUM(octet_length(text))::bigint
                    FROM muster_output GROUP BY context, node, generation
                    """,
                    logger: logger
                )
                for try await (context, node, generation, first, count, bytes) in counts.decode((String, String, Int, Int, Int, Int).self) {
                    state.outputCounts.append(
                        OutputCount(context: ContextID(context), node: node, generation: generation, count: count, first: first, bytes: bytes)
                    )
                }
                let sequence = try await connection.query("SELECT COALESCE(MAX(sequence), 0) FROM muster_events", logger: logger)
                for try await value in sequence.decode(Int64.self) { state.lastSequence = UInt64(max(0, value)) }
                lastCommand.withLock { $0 = last }
                return state
            }
        } catch {
            throw StoreError("cannot read the state from PostgreSQL: \(PostgresErrorText.describe(error))")
        }
    }

    // MARK: Writing

    public nonisolated(nonsending) func commit(_ batch: StoreBatch) async throws(StoreError) {
        guard !batch.isEmpty else { return }
        let first = lastCommand.withLock { $0 } + 1
        let rows: PostgresBatchRows
        do {
            rows = try PostgresBatchRows(batch, firstCommand: first, commandEncoder: commandEncoder, encoder: encoder)
        } catch {
            throw StoreError("cannot encode a change for PostgreSQL: \(error)")
        }
        do {
            try await client.withTransaction(logger: logger) { connection in
                try await rows.write(on: connection, logger: logger)
            }
        } catch {
            throw StoreError("cannot write the state to PostgreSQL: \(PostgresErrorText.describe(error))")
        }
        if !batch.commands.isEmpty { lastCommand.withLock { $0 = first + Int64(batch.commands.count) - 1 } }
    }

    // MARK: Reading history

    public nonisolated(nonsending) func events(after: UInt64, context: ContextID?, limit: Int) async throws(StoreError) -> [ContextEvent] {
        let after = Int64(clamping: after)
        do {
            let query: PostgresQuery
            if let context {
                query = """
                    SELECT body FROM muster_events WHERE context = \(context.rawValue) AND sequence > \(after) ORDER BY sequence LIMIT \(limit)
                    """
            } else {
                query = "SELECT body FROM muster_events WHERE sequence > \(after) ORDER BY sequence LIMIT \(limit)"
            }
            var events: [ContextEvent] = []
            for try await body in try await client.query(query, logger: logger).decode(ByteBuffer.self) {
                events.append(try decoder.decode(ContextEvent.self, from: Data(body.readableBytesView)))
            }
            return events
        } catch {
            throw StoreError("cannot read events from PostgreSQL: \(PostgresErrorText.describe(error))")
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
            let rows = try await client.query(
                """
                SELECT idx, time, phase, script, stream, text FROM muster_output
                WHERE context = \(context.rawValue) AND node = \(node) AND generation = \(generation) AND idx >= \(from)
                ORDER BY idx LIMIT \(limit)
                """,
                logger: logger
            )
            var lines: [OutputLine] = []
            var bytes = 0
            for try await (index, time, phase, script, stream, text) in rows.decode((Int, Double, Int, ByteBuffer, String, ByteBuffer).self) {
                if !lines.isEmpty && bytes + text.readableBytes > maxBytes { break }
                bytes += text.readableBytes
                lines.append(
                    OutputLine(
                        index: index,
                        time: Date(timeIntervalSince1970: time),
                        phase: phase,
                        script: String(buffer: script),
                        stream: OutputStream(rawValue: stream) ?? .stdout,
                        text: String(buffer: text)
                    )
                )
            }
            return lines
        } catch {
            throw StoreError("cannot read output from PostgreSQL: \(PostgresErrorText.describe(error))")
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
            let rows = try await client.query(
                """
                SELECT idx, octet_length(text)::bigint FROM muster_output
                WHERE context = \(context.rawValue) AND node = \(node) AND generation = \(generation) AND idx >= \(from)
                ORDER BY idx LIMIT \(limit)
                """,
                logger: logger
            )
            var sizes: [(index: Int, bytes: Int)] = []
            for try await (index, bytes) in rows.decode((Int, Int).self) { sizes.append((index, bytes)) }
            return sizes
        } catch {
            throw StoreError("cannot read output sizes from PostgreSQL: \(PostgresErrorText.describe(error))")
        }
    }
}

/// Runs `body`, failing with a ``StoreError`` naming `what` when it takes longer than `timeout`.
private func withTimeout<T: Sendable>(_ timeout: Duration, what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw StoreError("\(what): no answer within \(timeout.components.seconds) s")
        }
        return value
    }
}
