import Foundation
import Logging
import MusterCore
import NIOCore
import PostgresNIO
import Synchronization

/// The broker's state in a PostgreSQL database, through a pool of postgres-nio connections.
///
/// The same contract as ``SQLiteStore``: each ``commit(_:)`` is one transaction, made durable by the server
/// before it returns. Several brokers (replicas) may share one database, all serving every route:
///
/// - A change is made under the database's write lock (a transaction-level advisory lock taken by
///   ``beginWrite()`` on this store's own connection). Before the broker builds its change it applies what the
///   others committed since it last looked, so every change builds on the whole log and event sequence numbers
///   stay gap-free and identical on every replica.
/// - Each committed change is also a row of `muster_changes` (``FollowedChange``), numbered in commit order, and
///   a `NOTIFY muster_changes` wakes the other replicas (``changeNotifications()``), which read the rows after the
///   last one they applied (``catchUp()``). The table is the truth; a lost notification costs only delay (a slow
///   tick looks anyway). Rows are pruned at snapshots, keeping ``keptChanges``; a replica that fell further behind
///   reloads the whole state.
///
/// Every broker holds the database's broker lock in shared mode for as long as its store is open; a standby waits
/// for it in exclusive mode, so that it serves only once no other broker does.
///
/// Open it with ``open(_:connections:timeout:standby:logger:)``; ``close()`` ends the pool and the connections.
public final class PostgresStore: BrokerStore {
    public var kind: String { "postgres" }
    public var isShared: Bool { true }
    /// Where it connects (password masked in every message).
    public let url: PostgresStoreURL
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    /// This broker's own connection: it holds the broker lock, and every write goes through it (a write spans
    /// several calls: ``beginWrite()``, then ``commit(_:)`` or ``endWrite()``). Replaced if it is lost.
    private let writer: Mutex<PostgresConnection?>
    private let connectionConfiguration: PostgresConnection.Configuration
    /// The listener that wakes this replica when another broker commits, and the wake-ups it sends.
    private let listener: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let listenerConnection: Mutex<PostgresConnection?> = Mutex(nil)
    private let wakeUps: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let logger: Logger
    /// Where this broker is in the logs: the last change row applied or written, the last command id, whether a
    /// write is open on ``writer``.
    private let position = Mutex(LogPosition())
    /// Commands are stored with the engine's own Codable form (not the wire form), so replay is exact.
    private let commandEncoder = JSONEncoder()
    private let commandDecoder = JSONDecoder()
    private let decoder = WireFormat.decoder()

    /// How many change rows a snapshot leaves for replicas that are behind.
    static let keptChanges: Int64 = 10_000
    /// The channel of the change notifications.
    static let channel = "muster_changes"

    struct LogPosition {
        var change: Int64 = 0
        var command: Int64 = 0
        var writeOpen = false
    }

    private init(
        url: PostgresStoreURL,
        client: PostgresClient,
        runner: Task<Void, Never>,
        writer: PostgresConnection,
        connectionConfiguration: PostgresConnection.Configuration,
        logger: Logger
    ) {
        self.url = url
        self.client = client
        self.runner = runner
        self.writer = Mutex(writer)
        self.connectionConfiguration = connectionConfiguration
        self.logger = logger
        (self.wakeUps, self.wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Connects, applies the schema's migrations, and returns the store.
    ///
    /// The first contact is one plain connection, so that a wrong address, password or database is reported as
    /// PostgreSQL says it, within `timeout`; the pool takes over reads after it, and that connection stays this
    /// broker's own for writes.
    ///
    /// - Parameters:
    ///   - connections: the most connections the pool opens.
    ///   - timeout: how long the first contact may take.
    ///   - standby: whether to wait, before serving, until no other broker serves the database (a standby that
    ///     takes over when the others stop or their machines are lost), rather than serving alongside them.
    public static func open(
        _ url: PostgresStoreURL,
        connections: Int = 8,
        timeout: Duration = .seconds(15),
        standby: Bool = false,
        logger: Logger
    ) async throws(StoreError) -> PostgresStore {
        let quiet = {
            var quiet = logger
            quiet.logLevel = max(logger.logLevel, .warning)
            return quiet
        }()
        let where_ = url.redacted
        let configuration = try url.connectionConfiguration()
        let connection: PostgresConnection
        do {
            connection = try await withTimeout(timeout, what: "connecting to PostgreSQL at \(where_)") {
                try await PostgresConnection.connect(configuration: configuration, id: 0, logger: quiet)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("cannot connect to PostgreSQL at \(where_): \(PostgresErrorText.describe(error))")
        }
        do {
            if standby {
                var alone = false
                let rows = try await connection.query("SELECT pg_try_advisory_lock(\(brokerLockKey))", logger: quiet)
                for try await value in rows.decode(Bool.self) { alone = value }
                if !alone {
                    logger.notice("standby: other brokers serve the database; waiting to take over", metadata: ["database": "\(where_)"])
                    // Granted once every other broker's session has ended (they stopped, or their connections were lost).
                    try await connection.query("SELECT pg_advisory_lock(\(brokerLockKey))", logger: quiet)
                    logger.notice("standby: taking over the database", metadata: ["database": "\(where_)"])
                }
            }
            try await connection.query("SELECT pg_advisory_lock_shared(\(brokerLockKey))", logger: quiet)
            if standby {
                // Now an ordinary replica: others may join.
                try await connection.query("SELECT pg_advisory_unlock(\(brokerLockKey))", logger: quiet)
            }
        } catch {
            try? await connection.close()
            throw StoreError("cannot take the broker lock in PostgreSQL at \(where_): \(PostgresErrorText.describe(error))")
        }
        // The pool starts running now; the migrations go over the broker's own connection meanwhile, so the pool
        // is first asked for a connection once it runs.
        let client = PostgresClient(configuration: try url.clientConfiguration(connections: connections), backgroundLogger: quiet)
        let runner = Task { await client.run() }
        let store = PostgresStore(
            url: url,
            client: client,
            runner: runner,
            writer: connection,
            connectionConfiguration: configuration,
            logger: quiet
        )
        do {
            let applied = try await PostgresSchema.migrate(on: connection, logger: quiet)
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

    /// Ends the listener, the connection pool and the broker's own connection; the store cannot be used afterwards.
    public func close() async {
        wake.finish()
        if let task = listener.withLock({ $0 }) {
            task.cancel()
            try? await listenerConnection.withLock({ $0 })?.close()
            await task.value
        }
        runner.cancel()
        await runner.value
        guard let connection = writer.withLock({ $0 }) else { return }
        // Released explicitly, so that a standby waiting for the database takes over at once (the server ends a
        // closed session's locks only when its backend has exited).
        _ = try? await connection.query("SELECT pg_advisory_unlock_all()", logger: logger)
        try? await connection.close()
    }

    /// The advisory lock every broker serving a database holds in shared mode, and a standby waits for in
    /// exclusive mode ("muster-b" in ASCII).
    static let brokerLockKey: Int64 = 0x6D75_7374_6572_2D62
    /// The transaction-level advisory lock under which a change is made ("muster-w").
    static let writeLockKey: Int64 = 0x6D75_7374_6572_2D77

    // MARK: Reading the state

    public nonisolated(nonsending) func load() async throws(StoreError) -> StoredState {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                // One view of the database, whatever other replicas commit meanwhile.
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
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
                var change: Int64 = 0
                let changes = try await connection.query("SELECT COALESCE(MAX(id), 0) FROM muster_changes", logger: logger)
                for try await value in changes.decode(Int64.self) { change = value }
                position.withLock {
                    $0.change = change
                    $0.command = last
                }
                return state
            }
        } catch {
            throw StoreError("cannot read the state from PostgreSQL: \(PostgresErrorText.describe(error))")
        }
    }

    // MARK: Writing

    /// This broker's own connection, connected again (with the broker lock taken again) if it was lost.
    private func writeConnection() async throws -> PostgresConnection {
        if let connection = writer.withLock({ $0 }), !connection.isClosed { return connection }
        let connection = try await PostgresConnection.connect(configuration: connectionConfiguration, id: 1, logger: logger)
        try await connection.query("SELECT pg_advisory_lock_shared(\(Self.brokerLockKey))", logger: logger)
        let old = writer.withLock { writer in
            defer { writer = connection }
            return writer
        }
        try? await old?.close()
        return connection
    }

    public nonisolated(nonsending) func beginWrite() async throws(StoreError) -> StoreCatchUp {
        do {
            let connection = try await writeConnection()
            try await connection.query("BEGIN", logger: logger)
            position.withLock { $0.writeOpen = true }
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.writeLockKey))", logger: logger)
            return try await readChanges(on: connection)
        } catch {
            await endWrite()
            if let error = error as? StoreError { throw error }
            throw StoreError("cannot begin a change in PostgreSQL: \(PostgresErrorText.describe(error))")
        }
    }

    public nonisolated(nonsending) func endWrite() async {
        guard position.withLock({ $0.writeOpen }) else { return }
        position.withLock { $0.writeOpen = false }
        guard let connection = writer.withLock({ $0 }) else { return }
        do {
            try await connection.query("ROLLBACK", logger: logger)
        } catch {
            // The connection is in an unknown state: drop it (its transaction, and the write lock, end with it).
            logger.warning("cannot end a change in PostgreSQL; reconnecting", metadata: ["error": "\(PostgresErrorText.describe(error))"])
            try? await connection.close()
        }
    }

    public nonisolated(nonsending) func commit(_ batch: StoreBatch) async throws(StoreError) {
        guard !batch.isEmpty else { return }
        if !position.withLock({ $0.writeOpen }) {
            // A commit without beginWrite (first start): it must not build on changes this broker has not seen.
            guard case .changes(let missed) = try await beginWrite(), missed.isEmpty else {
                await endWrite()
                throw StoreError("another broker changed the state meanwhile; try again")
            }
        }
        let now = position.withLock { $0 }
        let change = FollowedChange(batch, committed: Date()).map { (id: now.change + 1, change: $0) }
        let rows: PostgresBatchRows
        do {
            rows = try PostgresBatchRows(
                batch,
                firstCommand: now.command + 1,
                change: try change.map { ($0.id, ByteBuffer(bytes: try commandEncoder.encode($0.change))) },
                keptChanges: Self.keptChanges
            )
        } catch {
            await endWrite()
            throw StoreError("cannot encode a change for PostgreSQL: \(error)")
        }
        do {
            guard let connection = writer.withLock({ $0 }) else { throw StoreError("the broker's PostgreSQL connection is closed") }
            try await rows.write(on: connection, logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            await endWrite()
            if let error = error as? StoreError { throw error }
            throw StoreError("cannot write the state to PostgreSQL: \(PostgresErrorText.describe(error))")
        }
        position.withLock {
            $0.writeOpen = false
            if let change { $0.change = change.id }
            $0.command += Int64(batch.commands.count)
        }
    }

    // MARK: Following other replicas

    public nonisolated(nonsending) func catchUp() async throws(StoreError) -> StoreCatchUp {
        do {
            return try await client.withConnection { connection in try await readChanges(on: connection) }
        } catch {
            if let error = error as? StoreError { throw error }
            throw StoreError("cannot read other brokers' changes from PostgreSQL: \(PostgresErrorText.describe(error))")
        }
    }

    /// The change rows after this broker's position, or the whole state when some of them were pruned already.
    private func readChanges(on connection: PostgresConnection) async throws -> StoreCatchUp {
        let after = position.withLock { $0.change }
        let rows = try await connection.query("SELECT id, body FROM muster_changes WHERE id > \(after) ORDER BY id", logger: logger)
        var changes: [FollowedChange] = []
        var expected = after + 1
        var commands: Int64 = 0
        for try await (id, body) in rows.decode((Int64, ByteBuffer).self) {
            guard id == expected else {
                // Pruned before this broker read it: only the whole state will do.
                return .reload(try await load())
            }
            let change = try commandDecoder.decode(FollowedChange.self, from: Data(body.readableBytesView))
            commands += Int64(change.commands.count)
            changes.append(change)
            expected += 1
        }
        if !changes.isEmpty {
            position.withLock {
                $0.change = expected - 1
                $0.command += commands
            }
        }
        return .changes(changes)
    }

    public func changeNotifications() -> AsyncStream<Void>? {
        listener.withLock { listener in
            guard listener == nil else { return }
            listener = Task { [weak self] in await self?.listen() }
        }
        return wakeUps
    }

    /// Listens for other brokers' changes on a connection of its own, waking the replica for each one it has
    /// not seen yet; reconnects when the connection is lost (and wakes the replica then, for what it missed),
    /// and wakes it every ``tick`` in any case.
    private func listen() async {
        let tick: Duration = .seconds(5)
        let ticker = Task { [wake] in
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                wake.yield()
            }
        }
        defer { ticker.cancel() }
        while !Task.isCancelled {
            var connection: PostgresConnection?
            do {
                let connected = try await PostgresConnection.connect(configuration: connectionConfiguration, id: 2, logger: logger)
                connection = connected
                // close() ends the notifications by closing this connection.
                listenerConnection.withLock { $0 = connected }
                if Task.isCancelled { break }
                try await connected.listen(on: Self.channel) { notifications in
                    wake.yield()
                    for try await notification in notifications {
                        let id = Int64(notification.payload) ?? .max
                        if id > position.withLock({ $0.change }) { wake.yield() }
                    }
                }
            } catch {
                if !Task.isCancelled {
                    logger.warning(
                        "lost the PostgreSQL notification connection; reconnecting",
                        metadata: ["error": "\(PostgresErrorText.describe(error))"]
                    )
                }
            }
            try? await connection?.close()
            if Task.isCancelled { break }
            try? await Task.sleep(for: .seconds(1))
        }
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
