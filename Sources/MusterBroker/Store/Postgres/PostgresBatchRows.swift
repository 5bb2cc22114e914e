import Foundation
import Logging
import MusterCore
import NIOCore
import PostgresNIO

/// One ``StoreBatch`` as column arrays, written with one `INSERT … SELECT FROM unnest(…)` per table: a
/// commit costs a round trip per kind of row, not per row.
struct PostgresBatchRows: Sendable {
    var commandIDs: [Int64] = []
    var commandTimes: [Double] = []
    var commandBodies: [ByteBuffer] = []
    var eventSequences: [Int64] = []
    var eventContexts: [String] = []
    var eventBodies: [ByteBuffer] = []
    var tokens: [NodeTokenRecord] = []
    var trims: [OutputTrim] = []
    var output = OutputColumns()
    var meta: [(key: String, value: ByteBuffer)] = []
    var deletedContexts: [String] = []
    /// The snapshot, and the id of the last command it covers.
    var snapshot: (commandID: Int64, lastSequence: Int64, body: ByteBuffer)?
    /// The change row other replicas follow (see ``FollowedChange``), if the batch has one.
    var change: (id: Int64, body: ByteBuffer)?
    /// How many change rows a snapshot leaves.
    var keptChanges: Int64

    /// Output lines as columns.
    struct OutputColumns: Sendable {
        var contexts: [String] = []
        var nodes: [String] = []
        var generations: [Int64] = []
        var indexes: [Int64] = []
        var times: [Double] = []
        var phases: [Int64] = []
        var scripts: [ByteBuffer] = []
        var streams: [String] = []
        var texts: [ByteBuffer] = []
    }

    /// Encodes `batch`; its commands take the ids from `firstCommand` on.
    init(
        _ batch: StoreBatch,
        firstCommand: Int64,
        change: (id: Int64, body: ByteBuffer)?,
        keptChanges: Int64
    ) throws {
        self.change = change
        self.keptChanges = keptChanges
        for (offset, stored) in batch.commands.enumerated() {
            commandIDs.append(firstCommand + Int64(offset))
            commandTimes.append(stored.time.timeIntervalSince1970)
            commandBodies.append(ByteBuffer(bytes: try stored.command.storedJSON()))
        }
        for event in batch.events {
            eventSequences.append(Int64(clamping: event.sequence))
            eventContexts.append(event.context.rawValue)
            eventBodies.append(ByteBuffer(bytes: try event.wireJSON()))
        }
        // One row per (context, node): a statement may not update the same row twice.
        tokens = batch.nodeTokens.keepingLast { NodeKey(context: $0.context, node: $0.node) }
        trims = batch.outputTrims
        // Each line index comes once per batch, as one upsert statement requires: an append keeps only the lines
        // after the output quota's marker, whose index is that of a dropped line.
        for group in batch.output {
            for line in group.lines {
                output.contexts.append(group.context.rawValue)
                output.nodes.append(group.node)
                output.generations.append(Int64(group.generation))
                output.indexes.append(Int64(line.index))
                output.times.append(line.time.timeIntervalSince1970)
                output.phases.append(Int64(line.phase))
                output.scripts.append(ByteBuffer(string: line.script))
                output.streams.append(line.stream.rawValue)
                output.texts.append(ByteBuffer(string: line.text))
            }
        }
        if let hash = batch.operatorTokenHash { meta.append(("operator-token-hash", ByteBuffer(bytes: hash))) }
        if let key = batch.digestKey { meta.append(("digest-key", ByteBuffer(bytes: key))) }
        deletedContexts = batch.deletedContexts.map(\.rawValue)
        if let snapshot = batch.snapshot {
            self.snapshot = (firstCommand + Int64(batch.commands.count) - 1, Int64(clamping: snapshot.lastSequence), ByteBuffer(bytes: snapshot.body))
        }
    }

    /// Writes the rows on `connection`, inside the caller's transaction.
    func write(on connection: PostgresConnection, logger: Logger) async throws {
        if !deletedContexts.isEmpty {
            let contexts = deletedContexts
            try await connection.query("DELETE FROM muster_events WHERE context = ANY(\(contexts)::text[])", logger: logger)
            try await connection.query("DELETE FROM muster_output WHERE context = ANY(\(contexts)::text[])", logger: logger)
            try await connection.query("DELETE FROM muster_node_tokens WHERE context = ANY(\(contexts)::text[])", logger: logger)
        }
        if !commandIDs.isEmpty {
            try await connection.query(
                """
                INSERT INTO muster_commands (id, time, body)
                SELECT * FROM unnest(\(commandIDs)::bigint[], \(commandTimes)::float8[], \(commandBodies)::bytea[])
                """,
                logger: logger
            )
        }
        if !eventSequences.isEmpty {
            try await connection.query(
                """
                INSERT INTO muster_events (sequence, context, body)
                SELECT * FROM unnest(\(eventSequences)::bigint[], \(eventContexts)::text[], \(eventBodies)::bytea[])
                """,
                logger: logger
            )
        }
        if !tokens.isEmpty {
            let contexts = tokens.map(\.context.rawValue)
            let nodes = tokens.map(\.node)
            let generations = tokens.map { Int64($0.generation) }
            let hashes = tokens.map { ByteBuffer(bytes: $0.hash) }
            try await connection.query(
                """
                INSERT INTO muster_node_tokens (context, node, generation, hash)
                SELECT * FROM unnest(\(contexts)::text[], \(nodes)::text[], \(generations)::bigint[], \(hashes)::bytea[])
                ON CONFLICT (context, node) DO UPDATE SET generation = EXCLUDED.generation, hash = EXCLUDED.hash
                """,
                logger: logger
            )
        }
        for trim in trims {
            try await connection.query(
                """
                DELETE FROM muster_output
                WHERE context = \(trim.context.rawValue) AND node = \(trim.node) AND generation = \(trim.generation) AND idx < \(trim.before)
                """,
                logger: logger
            )
        }
        if !output.contexts.isEmpty {
            let o = output
            try await connection.query(
                """
                INSERT INTO muster_output (context, node, generation, idx, time, phase, script, stream, text)
                SELECT * FROM unnest(\(o.contexts)::text[], \(o.nodes)::text[], \(o.generations)::bigint[], \(o.indexes)::bigint[],
                    \(o.times)::float8[], \(o.phases)::bigint[], \(o.scripts)::bytea[], \(o.streams)::text[], \(o.texts)::bytea[])
                ON CONFLICT (context, node, generation, idx) DO UPDATE SET time = EXCLUDED.time, phase = EXCLUDED.phase,
                    script = EXCLUDED.script, stream = EXCLUDED.stream, text = EXCLUDED.text
                """,
                logger: logger
            )
        }
        if let snapshot {
            try await connection.query("DELETE FROM muster_commands WHERE id <= \(snapshot.commandID)", logger: logger)
            try await connection.query(
                """
                INSERT INTO muster_snapshots (id, command_id, last_sequence, body)
                VALUES (1, \(snapshot.commandID), \(snapshot.lastSequence), \(snapshot.body))
                ON CONFLICT (id) DO UPDATE SET command_id = EXCLUDED.command_id, last_sequence = EXCLUDED.last_sequence, body = EXCLUDED.body
                """,
                logger: logger
            )
        }
        for (key, value) in meta {
            if key == "digest-key" {
                // Made once: replicas starting together on an empty database keep the first one written.
                try await connection.query(
                    "INSERT INTO muster_meta (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO NOTHING",
                    logger: logger
                )
            } else {
                try await connection.query(
                    "INSERT INTO muster_meta (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    logger: logger
                )
            }
        }
        if let change {
            // The notification goes out when the transaction commits, to every replica listening.
            try await connection.query(
                """
                WITH notified AS (SELECT pg_notify(\(PostgresStore.channel), \(String(change.id))))
                INSERT INTO muster_changes (id, committed, body) SELECT \(change.id), extract(epoch FROM clock_timestamp()), \(change.body) FROM notified
                """,
                logger: logger
            )
            if snapshot != nil {
                try await connection.query("DELETE FROM muster_changes WHERE id <= \(change.id - keptChanges)", logger: logger)
            }
        }
    }
}
