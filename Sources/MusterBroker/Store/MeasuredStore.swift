import MusterCore

/// A ``BrokerStore`` that times every call of the store it wraps, for `/metrics`
/// (`muster_store_operation_duration_seconds{kind, operation}`).
///
/// Its requirements call straight through (`nonisolated(nonsending)` to `nonisolated(nonsending)`), so a store that
/// does not suspend still does not: wrapping changes no ordering.
struct MeasuredStore: BrokerStore {
    let inner: any BrokerStore
    let metrics: BrokerMetrics

    var kind: String { inner.kind }

    private func timed<T>(_ operation: String, _ body: () async throws(StoreError) -> T) async throws(StoreError) -> T {
        let clock = ContinuousClock()
        let start = clock.now
        defer { metrics.recordStore(kind: inner.kind, operation: operation, duration: clock.now - start) }
        return try await body()
    }

    nonisolated(nonsending) func load() async throws(StoreError) -> StoredState {
        try await timed("load") { () async throws(StoreError) in try await inner.load() }
    }

    nonisolated(nonsending) func commit(_ batch: StoreBatch) async throws(StoreError) {
        try await timed("commit") { () async throws(StoreError) in try await inner.commit(batch) }
    }

    nonisolated(nonsending) func events(after: UInt64, context: ContextID?, limit: Int) async throws(StoreError) -> [ContextEvent] {
        try await timed("events") { () async throws(StoreError) in try await inner.events(after: after, context: context, limit: limit) }
    }

    nonisolated(nonsending) func output(
        context: ContextID,
        node: String,
        generation: Int,
        from: Int,
        limit: Int,
        maxBytes: Int
    ) async throws(StoreError) -> [OutputLine] {
        try await timed("output") { () async throws(StoreError) in
            try await inner.output(context: context, node: node, generation: generation, from: from, limit: limit, maxBytes: maxBytes)
        }
    }

    nonisolated(nonsending) func outputLineSizes(
        context: ContextID,
        node: String,
        generation: Int,
        from: Int,
        limit: Int
    ) async throws(StoreError) -> [(index: Int, bytes: Int)] {
        try await timed("output-sizes") { () async throws(StoreError) in
            try await inner.outputLineSizes(context: context, node: node, generation: generation, from: from, limit: limit)
        }
    }

    func close() async { await inner.close() }

    var isShared: Bool { inner.isShared }

    nonisolated(nonsending) func beginWrite() async throws(StoreError) -> StoreCatchUp {
        // A store with one writer takes no lock: nothing to time on the hot path.
        guard inner.isShared else { return try await inner.beginWrite() }
        return try await timed("begin-write") { () async throws(StoreError) in try await inner.beginWrite() }
    }

    nonisolated(nonsending) func endWrite() async { await inner.endWrite() }

    nonisolated(nonsending) func catchUp() async throws(StoreError) -> StoreCatchUp {
        try await timed("catch-up") { () async throws(StoreError) in try await inner.catchUp() }
    }

    func changeNotifications() -> AsyncStream<Void>? { inner.changeNotifications() }
}
