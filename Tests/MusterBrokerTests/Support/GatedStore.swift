import Foundation
import MusterBroker
import MusterCore
import Synchronization

/// A real store whose next commit can be held at a gate, so that a test can have changes arrive while a commit is
/// in flight (what group commit is for) without relying on timing; it also counts commits and the commands in each.
final class GatedStore: BrokerStore, Sendable {
    private let store: any BrokerStore
    private struct Gate {
        var closed = false
        var waiting: CheckedContinuation<Void, Never>?
        var isHolding = false
        var commandsPerCommit: [Int] = []
    }
    private let gate = Mutex(Gate())

    init(_ store: any BrokerStore) { self.store = store }

    var kind: String { store.kind }

    /// The number of commands of every commit so far.
    var commandsPerCommit: [Int] { gate.withLock { $0.commandsPerCommit } }

    /// Holds the next commit until ``open()``.
    func hold() { gate.withLock { $0.closed = true } }

    /// Whether a commit waits at the closed gate.
    var isHolding: Bool { gate.withLock { $0.isHolding } }

    /// Lets the held commit (and every later one) through.
    func open() {
        let waiting = gate.withLock { gate -> CheckedContinuation<Void, Never>? in
            gate.closed = false
            defer { gate.waiting = nil }
            return gate.waiting
        }
        waiting?.resume()
    }

    nonisolated(nonsending) func load() async throws(StoreError) -> StoredState { try await store.load() }

    nonisolated(nonsending) func commit(_ batch: StoreBatch) async throws(StoreError) {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let hold = gate.withLock { gate -> Bool in
                guard gate.closed else { return false }
                gate.waiting = continuation
                gate.isHolding = true
                return true
            }
            if !hold { continuation.resume() }
        }
        gate.withLock {
            $0.isHolding = false
            $0.commandsPerCommit.append(batch.commands.count)
        }
        try await store.commit(batch)
    }

    nonisolated(nonsending) func events(after: UInt64, context: ContextID?, limit: Int) async throws(StoreError) -> [ContextEvent] {
        try await store.events(after: after, context: context, limit: limit)
    }

    nonisolated(nonsending) func output(
        context: ContextID,
        node: String,
        generation: Int,
        from: Int,
        limit: Int,
        maxBytes: Int
    ) async throws(StoreError) -> [OutputLine] {
        try await store.output(context: context, node: node, generation: generation, from: from, limit: limit, maxBytes: maxBytes)
    }

    nonisolated(nonsending) func outputLineSizes(
        context: ContextID,
        node: String,
        generation: Int,
        from: Int,
        limit: Int
    ) async throws(StoreError) -> [(index: Int, bytes: Int)] {
        try await store.outputLineSizes(context: context, node: node, generation: generation, from: from, limit: limit)
    }

    func close() async { await store.close() }
}
