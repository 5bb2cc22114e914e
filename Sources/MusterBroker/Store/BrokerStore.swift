import Foundation
import MusterCore

/// Where a broker keeps everything that must survive a restart.
///
/// The broker is event-sourced: the engine's inputs (``EngineCommand`` with the time they were applied) are
/// the source of truth, and replaying them rebuilds the engine exactly, event sequence numbers included. The
/// events themselves are stored too, so that followers can resume from any sequence number without a replay.
///
/// All writes come from the broker's single state actor, one at a time and in order. ``commit(_:)`` must make
/// the whole batch durable atomically (one transaction) before it returns: the broker answers a request only
/// after its batch is committed. Reads may come from any task concurrently with writes.
///
/// The requirements are `nonisolated(nonsending)`: they run on the caller's executor, so a store that does not
/// suspend (SQLite, memory) keeps the state actor's change atomic, and one that does (PostgreSQL) is awaited
/// by the actor while it holds its change lock.
public protocol BrokerStore: Sendable {
    /// What kind of store this is (`sqlite`, `postgres`, `memory`), for `/v1/healthz` and `/metrics`.
    var kind: String { get }

    /// Everything needed to rebuild the broker's state at start-up.
    nonisolated(nonsending) func load() async throws(StoreError) -> StoredState

    /// Writes one batch atomically.
    nonisolated(nonsending) func commit(_ batch: StoreBatch) async throws(StoreError)

    /// Events with a sequence number greater than `after`, oldest first, at most `limit`, optionally only one
    /// context's.
    nonisolated(nonsending) func events(after: UInt64, context: ContextID?, limit: Int) async throws(StoreError) -> [ContextEvent]

    /// Output lines of one node's generation with index ≥ `from`, oldest first, at most `limit` lines and about
    /// `maxBytes` of text (always at least one line when one exists).
    nonisolated(nonsending) func output(
        context: ContextID,
        node: String,
        generation: Int,
        from: Int,
        limit: Int,
        maxBytes: Int
    ) async throws(StoreError) -> [OutputLine]

    /// The index and text size in bytes (UTF-8) of output lines of one node's generation with index ≥ `from`,
    /// oldest first, at most `limit` (what the output quota needs to choose which lines to drop).
    nonisolated(nonsending) func outputLineSizes(
        context: ContextID,
        node: String,
        generation: Int,
        from: Int,
        limit: Int
    ) async throws(StoreError) -> [(index: Int, bytes: Int)]

    /// Releases the store's connections or files once the broker stopped; it is not used afterwards.
    func close() async

    // MARK: Replicas

    /// Whether other brokers may write to this store at the same time (replicas on one PostgreSQL database).
    var isShared: Bool { get }

    /// Begins a change: takes the store's write lock (held until ``commit(_:)`` or ``endWrite()``) and returns
    /// what other brokers committed since this one last read or wrote, which the broker applies before it
    /// builds its own change on top. A store with one writer returns nothing and takes no lock.
    nonisolated(nonsending) func beginWrite() async throws(StoreError) -> StoreCatchUp

    /// Ends a change begun with ``beginWrite()`` that was not committed (it was refused, or wrote nothing),
    /// releasing the write lock. Does nothing when no change is open.
    nonisolated(nonsending) func endWrite() async

    /// What other brokers committed since this one last read or wrote, without taking the write lock (a
    /// replica following the others).
    nonisolated(nonsending) func catchUp() async throws(StoreError) -> StoreCatchUp

    /// Wakes a replica when another broker may have committed a change (a PostgreSQL notification, and a slow
    /// tick in case one was missed); `nil` for a store with one writer.
    func changeNotifications() -> AsyncStream<Void>?
}

extension BrokerStore {
    /// Nothing to release (the default).
    public func close() async {}

    /// One writer (the default): nobody else changes the store.
    public var isShared: Bool { false }

    /// One writer (the default): nothing to catch up with, no lock to take.
    public nonisolated(nonsending) func beginWrite() async throws(StoreError) -> StoreCatchUp { .changes([]) }

    /// One writer (the default): nothing to release.
    public nonisolated(nonsending) func endWrite() async {}

    /// One writer (the default): nothing to catch up with.
    public nonisolated(nonsending) func catchUp() async throws(StoreError) -> StoreCatchUp { .changes([]) }

    /// One writer (the default): never woken.
    public func changeNotifications() -> AsyncStream<Void>? { nil }
}

/// What a broker must apply to be current with a shared store.
public enum StoreCatchUp: Sendable {
    /// Other brokers' changes, oldest first (often none).
    case changes([FollowedChange])
    /// The broker fell further behind than the store keeps changes for: the whole state, to rebuild from.
    case reload(StoredState)
}

/// A change another broker committed to a shared store: what a replica needs to stay current with it.
///
/// Replaying ``commands`` on an engine that is current up to this change yields exactly the events the writer
/// stored (same sequence numbers, same bodies): the engine is deterministic and the times travel with the commands.
public struct FollowedChange: Sendable, Hashable, Codable {
    /// Engine inputs, in order, with the times they were applied.
    public var commands: [StoredCommand]
    /// Node token hashes set by the change.
    public var nodeTokens: [NodeTokenRecord]
    /// Output lines dropped (before ``output`` is appended).
    public var outputTrims: [OutputTrim]
    /// Output lines appended.
    public var output: [OutputBatch]
    /// What each node's stored output is after the change (for its quota).
    public var outputCounts: [OutputCount]
    /// A new operator token hash.
    public var operatorTokenHash: [UInt8]?
    /// Contexts deleted by the change.
    public var deletedContexts: [ContextID]
    /// When the writer committed it (for the replication lag).
    public var committed: Date

    /// The part of `batch` other brokers need, or `nil` when there is none (a batch that only adds a key).
    public init?(_ batch: StoreBatch, committed: Date) {
        guard
            !(batch.commands.isEmpty && batch.nodeTokens.isEmpty && batch.outputTrims.isEmpty && batch.output.isEmpty
                && batch.operatorTokenHash == nil && batch.deletedContexts.isEmpty)
        else { return nil }
        self.commands = batch.commands
        self.nodeTokens = batch.nodeTokens
        self.outputTrims = batch.outputTrims
        self.output = batch.output
        self.outputCounts = batch.outputCounts
        self.operatorTokenHash = batch.operatorTokenHash
        self.deletedContexts = batch.deletedContexts
        self.committed = committed
    }
}

/// What ``BrokerStore/load()`` returns.
public struct StoredState: Sendable {
    /// The engine as it was at the last snapshot (its `Codable` form), if one was taken; ``commands`` are the
    /// inputs applied after it.
    public var snapshot: EngineSnapshot?
    /// The engine inputs in the order they were applied, with their times.
    public var commands: [StoredCommand]
    /// The SHA-256 of the operator token, once set.
    public var operatorTokenHash: [UInt8]?
    /// The SHA-256 of each node's current token, by context and node.
    public var nodeTokens: [NodeTokenRecord]
    /// How many output lines each node's current generation has, by context and node.
    public var outputCounts: [OutputCount]
    /// The highest event sequence number stored (0 if none); replaying the commands must reach it.
    public var lastSequence: UInt64
    /// The key of the masked data digest, once made (at first start).
    public var digestKey: [UInt8]?

    /// Creates a stored state.
    public init(
        snapshot: EngineSnapshot? = nil,
        commands: [StoredCommand] = [],
        operatorTokenHash: [UInt8]? = nil,
        nodeTokens: [NodeTokenRecord] = [],
        outputCounts: [OutputCount] = [],
        lastSequence: UInt64 = 0,
        digestKey: [UInt8]? = nil
    ) {
        self.snapshot = snapshot
        self.commands = commands
        self.operatorTokenHash = operatorTokenHash
        self.nodeTokens = nodeTokens
        self.outputCounts = outputCounts
        self.lastSequence = lastSequence
        self.digestKey = digestKey
    }
}

/// The whole engine at one point of the command log, so that a restart need not replay every command ever stored.
public struct EngineSnapshot: Sendable, Hashable {
    /// The engine's `Codable` form (JSON).
    public var body: Data
    /// The engine's last event sequence number then.
    public var lastSequence: UInt64

    /// Creates a snapshot.
    public init(body: Data, lastSequence: UInt64) {
        self.body = body
        self.lastSequence = lastSequence
    }
}

/// One engine input with the time it was applied.
public struct StoredCommand: Sendable, Hashable, Codable {
    /// The input.
    public var command: EngineCommand
    /// When it was applied.
    public var time: Date

    /// Creates a stored command.
    public init(command: EngineCommand, time: Date) {
        self.command = command
        self.time = time
    }
}

/// The hash of a node's bearer token for one generation of its slot.
public struct NodeTokenRecord: Sendable, Hashable, Codable {
    /// The context.
    public var context: ContextID
    /// The node.
    public var node: String
    /// The slot generation the token belongs to.
    public var generation: Int
    /// SHA-256 of the token.
    public var hash: [UInt8]

    /// Creates a record.
    public init(context: ContextID, node: String, generation: Int, hash: [UInt8]) {
        self.context = context
        self.node = node
        self.generation = generation
        self.hash = hash
    }
}

/// How many output lines a node's generation has.
public struct OutputCount: Sendable, Hashable, Codable {
    /// The context.
    public var context: ContextID
    /// The node.
    public var node: String
    /// The generation.
    public var generation: Int
    /// The number of lines (the next index).
    public var count: Int
    /// The index of the first line kept (older ones were dropped by the output quota).
    public var first: Int?
    /// Bytes of text kept.
    public var bytes: Int?

    /// Creates a count.
    public init(context: ContextID, node: String, generation: Int, count: Int, first: Int? = nil, bytes: Int? = nil) {
        self.context = context
        self.node = node
        self.generation = generation
        self.count = count
        self.first = first
        self.bytes = bytes
    }
}

/// Output lines of one node's generation, to append.
public struct OutputBatch: Sendable, Hashable, Codable {
    /// The context.
    public var context: ContextID
    /// The node.
    public var node: String
    /// The generation.
    public var generation: Int
    /// The lines, with consecutive indexes continuing the stored ones; a line with the index of a stored one
    /// replaces it (the output quota's marker).
    public var lines: [OutputLine]

    /// Creates a batch.
    public init(context: ContextID, node: String, generation: Int, lines: [OutputLine]) {
        self.context = context
        self.node = node
        self.generation = generation
        self.lines = lines
    }
}

/// Everything one broker step writes, committed in one transaction.
public struct StoreBatch: Sendable {
    /// Engine inputs applied, in order.
    public var commands: [StoredCommand] = []
    /// The events they produced, in sequence order.
    public var events: [ContextEvent] = []
    /// Node token hashes to insert or replace (one per context, node: the current generation's).
    public var nodeTokens: [NodeTokenRecord] = []
    /// Output lines to drop, before ``output`` is appended.
    public var outputTrims: [OutputTrim] = []
    /// Output lines to append.
    public var output: [OutputBatch] = []
    /// A new operator token hash.
    public var operatorTokenHash: [UInt8]?
    /// The masked data digest's key (written once, at first start).
    public var digestKey: [UInt8]?
    /// Contexts this batch deletes: their events, output and token hashes go first, before the batch's own rows
    /// (its `context-deleted` event stays, for followers).
    public var deletedContexts: [ContextID] = []
    /// The engine after this batch: it replaces every stored command, this batch's included.
    public var snapshot: EngineSnapshot?
    /// What each node's stored output is after this batch, for replicas following it (see ``FollowedChange``);
    /// a store with one writer need not keep it.
    public var outputCounts: [OutputCount] = []

    /// Creates an empty batch.
    public init() {}

    /// One batch holding several, in order: what a group commit writes in one transaction. Rows that replace each
    /// other (a node's token, a node's output count) keep the last one.
    public init(merging batches: [StoreBatch]) {
        for batch in batches {
            commands += batch.commands
            events += batch.events
            nodeTokens += batch.nodeTokens
            outputTrims += batch.outputTrims
            output += batch.output
            outputCounts += batch.outputCounts
            deletedContexts += batch.deletedContexts
            operatorTokenHash = batch.operatorTokenHash ?? operatorTokenHash
            digestKey = batch.digestKey ?? digestKey
            snapshot = batch.snapshot ?? snapshot
        }
        nodeTokens = nodeTokens.keepingLast { NodeKey(context: $0.context, node: $0.node) }
        outputCounts = outputCounts.keepingLast { "\($0.context.rawValue)/\($0.node)/\($0.generation)" }
    }

    /// Whether there is nothing to write.
    public var isEmpty: Bool {
        commands.isEmpty && events.isEmpty && nodeTokens.isEmpty && outputTrims.isEmpty && output.isEmpty && operatorTokenHash == nil
            && digestKey == nil && deletedContexts.isEmpty && snapshot == nil
    }
}

/// Output lines of one node's generation to drop: every line with an index below `before`.
public struct OutputTrim: Sendable, Hashable, Codable {
    /// The context.
    public var context: ContextID
    /// The node.
    public var node: String
    /// The generation.
    public var generation: Int
    /// Lines with a smaller index are dropped.
    public var before: Int

    /// Creates a trim.
    public init(context: ContextID, node: String, generation: Int, before: Int) {
        self.context = context
        self.node = node
        self.generation = generation
        self.before = before
    }
}

/// Why the store failed. The broker answers 503 and changes nothing in memory.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What failed, for a person (never containing data values).
    public var message: String
    /// Whether the state is in use by another broker (rather than unreadable or unreachable).
    public var inUse = false

    /// Creates an error.
    public init(_ message: String, inUse: Bool = false) {
        self.message = message
        self.inUse = inUse
    }

    public var description: String { message }
}
