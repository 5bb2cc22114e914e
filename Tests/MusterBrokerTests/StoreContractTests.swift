import Foundation
import Logging
import MusterBroker
import MusterCore
import MusterSystem
import Synchronization
import Testing

/// The ``BrokerStore`` contract, run against every store: memory, SQLite (a file) and PostgreSQL (a real server).
@Suite("Store contract")
struct StoreContractTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case memory, sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// Runs `body` with a fresh, empty store of `kind`; `reopen` gives a second store on the same data (what a
    /// restart sees).
    static func withStore(
        _ kind: Kind,
        _ body: (_ store: any BrokerStore, _ reopen: () async throws -> any BrokerStore) async throws -> Void
    )
        async throws
    {
        switch kind {
        case .memory:
            let store = MemoryStore()
            try await body(store) { store }
        case .sqlite:
            let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("store-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let path = folder + "/state.sqlite"
            try await body(try SQLiteStore(path: path)) { try SQLiteStore(path: path) }
        case .postgres:
            try await PostgresServer.with { server in
                let url = try await server.createDatabase()
                let store = try await PostgresStore.open(url, logger: Logger(label: "test"))
                let reopened = Mutex<[PostgresStore]>([])
                do {
                    try await body(store) {
                        let again = try await PostgresStore.open(url, logger: Logger(label: "test"))
                        reopened.withLock { $0.append(again) }
                        return again
                    }
                } catch {
                    await store.close()
                    for again in reopened.withLock({ $0 }) { await again.close() }
                    throw error
                }
                await store.close()
                for again in reopened.withLock({ $0 }) { await again.close() }
            }
        }
    }

    static let document: ClusterDocument = {
        let xml = """
            <cluster><workspace><name>head</name><image>h</image><quantity>2</quantity><nic>public</nic>
              <ctx><provides><identity/><role>head</role></provides>
              <requires><data name="secret">s3cret</data></requires></ctx></workspace></cluster>
            """
        guard let document = ClusterDocumentParser.parse(Array(xml.utf8)).document else { fatalError("the test document is invalid") }
        return document
    }()

    /// A batch as the broker writes one: real engine commands and the events they produced.
    static func changes(context: String = "c1") throws -> StoreBatch {
        var engine = ContextEngine()
        let at = BrokerState.millisecondClock()
        var batch = StoreBatch()
        for command in [EngineCommand.createContext(id: ContextID(context), name: "demo", document: document)] {
            let outcome = try engine.apply(command, at: at)
            batch.commands.append(StoredCommand(command: command, time: at))
            batch.events += outcome.events
        }
        return batch
    }

    /// Events as they come back from their wire form (compared so on both sides: a Date decoded from its text may
    /// differ in its last bit from the one encoded).
    static func wire(_ events: [ContextEvent]) throws -> [ContextEvent] {
        try WireFormat.decoder().decode([ContextEvent].self, from: WireFormat.encoder().encode(events))
    }

    static func line(_ index: Int, _ text: String, stream: MusterCore.OutputStream = .stdout) -> OutputLine {
        OutputLine(
            index: index,
            time: Date(timeIntervalSince1970: 1_700_000_100 + Double(index)),
            phase: 1,
            script: "1-ipandhost/head",
            stream: stream,
            text: text
        )
    }

    @Test(arguments: Kind.allCases)
    func `a new store is empty`(kind: Kind) async throws {
        try await Self.withStore(kind) { store, _ in
            let state = try await store.load()
            #expect(state.commands.isEmpty)
            #expect(state.lastSequence == 0)
            #expect(state.operatorTokenHash == nil)
            #expect(state.digestKey == nil)
            #expect(try await store.events(after: 0, context: nil, limit: 10).isEmpty)
        }
    }

    @Test(arguments: Kind.allCases)
    func `what is committed is loaded back exactly, after a reopen too`(kind: Kind) async throws {
        try await Self.withStore(kind) { store, reopen in
            var batch = try Self.changes()
            batch.operatorTokenHash = Array(repeating: 7, count: 32)
            batch.digestKey = Array(0..<32)
            batch.nodeTokens = [
                NodeTokenRecord(context: "c1", node: "head-0", generation: 0, hash: Array(repeating: 1, count: 32)),
                NodeTokenRecord(context: "c1", node: "head-1", generation: 0, hash: Array(repeating: 2, count: 32)),
            ]
            try await store.commit(batch)
            // A later token for the same node replaces the earlier one.
            var retried = StoreBatch()
            retried.nodeTokens = [NodeTokenRecord(context: "c1", node: "head-0", generation: 1, hash: Array(repeating: 3, count: 32))]
            try await store.commit(retried)

            for reader in [store, try await reopen()] {
                let state = try await reader.load()
                #expect(state.commands == batch.commands)
                #expect(state.lastSequence == batch.events.last?.sequence)
                #expect(state.operatorTokenHash == Array(repeating: 7, count: 32))
                #expect(state.digestKey == Array(0..<32))
                let tokens = state.nodeTokens.sorted { $0.node < $1.node }
                #expect(tokens.map(\.generation) == [1, 0])
                #expect(tokens.first?.hash == Array(repeating: 3, count: 32))
                #expect(try Self.wire(await reader.events(after: 0, context: nil, limit: 100)) == Self.wire(batch.events))
            }
        }
    }

    @Test(arguments: Kind.allCases)
    func `events page by sequence and filter by context`(kind: Kind) async throws {
        try await Self.withStore(kind) { store, _ in
            let first = try Self.changes(context: "c1")
            try await store.commit(first)
            var engine = ContextEngine()
            _ = try engine.apply(first.commands[0].command, at: first.commands[0].time)
            let second = EngineCommand.createContext(id: "c2", name: "other", document: Self.document)
            var batch = StoreBatch()
            batch.commands = [StoredCommand(command: second, time: BrokerState.millisecondClock())]
            batch.events = try engine.apply(second, at: batch.commands[0].time).events
            try await store.commit(batch)

            // As the wire gives them back: a Date decoded from its text may differ in its last bit from the one encoded.
            let all = try Self.wire(first.events + batch.events)
            batch.events = try Self.wire(batch.events)
            #expect(try Self.wire(await store.events(after: 0, context: nil, limit: 1_000)) == all)
            #expect(try Self.wire(await store.events(after: 1, context: nil, limit: 2)) == Array(all[1..<3]))
            #expect(try Self.wire(await store.events(after: 0, context: "c2", limit: 1_000)) == batch.events)
            #expect(try await store.events(after: all.last!.sequence, context: nil, limit: 10).isEmpty)
            #expect(try await store.load().lastSequence == all.last!.sequence)
        }
    }

    @Test(arguments: Kind.allCases)
    func `output is paged by index and bytes, trimmed, and its marker replaces a line`(kind: Kind) async throws {
        try await Self.withStore(kind) { store, reopen in
            var batch = StoreBatch()
            let lines = (0..<5).map { Self.line($0, String(repeating: "x", count: 10) + " ü \($0)") }
            batch.output = [OutputBatch(context: "c1", node: "head-0", generation: 0, lines: lines)]
            try await store.commit(batch)

            #expect(try await store.output(context: "c1", node: "head-0", generation: 0, from: 0, limit: 100, maxBytes: 1 << 20) == lines)
            #expect(try await store.output(context: "c1", node: "head-0", generation: 0, from: 3, limit: 1, maxBytes: 1 << 20) == [lines[3]])
            // At least one line, even when it alone is over the byte budget.
            #expect(try await store.output(context: "c1", node: "head-0", generation: 0, from: 0, limit: 100, maxBytes: 1) == [lines[0]])
            #expect(try await store.output(context: "c1", node: "head-0", generation: 0, from: 0, limit: 100, maxBytes: 30) == Array(lines[0..<2]))
            #expect(try await store.output(context: "c1", node: "head-0", generation: 1, from: 0, limit: 100, maxBytes: 1 << 20).isEmpty)
            let sizes = try await store.outputLineSizes(context: "c1", node: "head-0", generation: 0, from: 1, limit: 2)
            #expect(sizes.map(\.index) == [1, 2])
            #expect(sizes.map(\.bytes) == [lines[1].text.utf8.count, lines[2].text.utf8.count])

            // The quota drops lines before 2 and puts its marker at index 2.
            var trim = StoreBatch()
            trim.outputTrims = [OutputTrim(context: "c1", node: "head-0", generation: 0, before: 2)]
            let marker = Self.line(2, "[muster] 3 earlier output lines dropped", stream: .agent)
            trim.output = [OutputBatch(context: "c1", node: "head-0", generation: 0, lines: [marker, Self.line(5, "new")])]
            try await store.commit(trim)
            let kept = try await store.output(context: "c1", node: "head-0", generation: 0, from: 0, limit: 100, maxBytes: 1 << 20)
            #expect(kept == [marker, lines[3], lines[4], Self.line(5, "new")])

            let counts = try await reopen().load().outputCounts
            #expect(counts.count == 1)
            #expect(counts.first?.first == 2)
            #expect(counts.first?.count == 6)
            #expect(counts.first?.bytes == kept.reduce(0) { $0 + $1.text.utf8.count })
        }
    }

    @Test(arguments: Kind.allCases)
    func `a snapshot replaces the stored commands, and a deleted context's rows go`(kind: Kind) async throws {
        try await Self.withStore(kind) { store, reopen in
            var first = try Self.changes(context: "c1")
            first.nodeTokens = [
                NodeTokenRecord(context: "c1", node: "head-0", generation: 0, hash: Array(repeating: 1, count: 32)),
                NodeTokenRecord(context: "c2", node: "head-0", generation: 0, hash: Array(repeating: 2, count: 32)),
            ]
            first.output = [
                OutputBatch(context: "c1", node: "head-0", generation: 0, lines: [Self.line(0, "one")]),
                OutputBatch(context: "c2", node: "head-0", generation: 0, lines: [Self.line(0, "two")]),
            ]
            try await store.commit(first)
            let last = try #require(first.events.last?.sequence)
            var delete = StoreBatch()
            delete.deletedContexts = ["c1"]
            delete.events = [ContextEvent(sequence: last + 1, time: BrokerState.millisecondClock(), context: "c1", change: .contextDeleted)]
            delete.snapshot = EngineSnapshot(body: Data("{\"engine\": 1}".utf8), lastSequence: last + 1)
            try await store.commit(delete)

            let state = try await reopen().load()
            #expect(state.snapshot == delete.snapshot)
            #expect(state.commands.isEmpty)
            #expect(state.lastSequence == last + 1)
            #expect(state.nodeTokens.map(\.context) == ["c2"])
            #expect(state.outputCounts.map(\.context) == ["c2"])
            #expect(try Self.wire(await store.events(after: 0, context: "c1", limit: 100)) == Self.wire(delete.events))
            #expect(try await store.output(context: "c1", node: "head-0", generation: 0, from: 0, limit: 10, maxBytes: 1 << 20).isEmpty)
            #expect(
                try await store.output(context: "c2", node: "head-0", generation: 0, from: 0, limit: 10, maxBytes: 1 << 20) == [Self.line(0, "two")]
            )

            // Commands after the snapshot are loaded after it.
            var later = StoreBatch()
            later.commands = [StoredCommand(command: .terminate(context: "c2"), time: BrokerState.millisecondClock())]
            try await store.commit(later)
            let reloaded = try await reopen().load()
            #expect(reloaded.snapshot == delete.snapshot)
            #expect(reloaded.commands == later.commands)
        }
    }

    @Test(arguments: Kind.allCases)
    func `an empty batch writes nothing and a failed one leaves no trace`(kind: Kind) async throws {
        try await Self.withStore(kind) { store, _ in
            try await store.commit(StoreBatch())
            #expect(try await store.load().commands.isEmpty)
            let batch = try Self.changes()
            try await store.commit(batch)
            // The same events again: their sequence numbers are taken, so the whole batch is refused.
            var duplicate = StoreBatch()
            duplicate.commands = batch.commands
            duplicate.events = batch.events
            duplicate.operatorTokenHash = Array(repeating: 9, count: 32)
            // The memory store keeps no keys to violate (it holds what the broker gives it); the durable ones must refuse.
            if kind != .memory {
                await #expect(throws: StoreError.self) { try await store.commit(duplicate) }
                let state = try await store.load()
                #expect(state.commands.count == batch.commands.count)
                #expect(state.operatorTokenHash == nil)
            }
        }
    }
}

/// What replicas sharing a PostgreSQL database rely on: a change committed by one store reaches the others, in
/// commit order, exactly as it was written; a store that has not seen it cannot commit past it.
@Suite("Store contract: replicas")
struct ReplicaStoreContractTests {
    @Test func `a change committed through one store is caught up by another, once and in order`() async throws {
        try await PostgresServer.with { server in
            let url = try await server.createDatabase()
            let first = try await PostgresStore.open(url, logger: Logger(label: "test"))
            let second = try await PostgresStore.open(url, logger: Logger(label: "test"))
            #expect(first.isShared && second.isShared)
            _ = try await first.load()
            _ = try await second.load()

            // Written by the first (under the write lock, having caught up with nothing).
            guard case .changes(let none) = try await first.beginWrite() else { throw TestFailure("expected changes") }
            #expect(none.isEmpty)
            var batch = try StoreContractTests.changes()
            batch.nodeTokens = [NodeTokenRecord(context: "c1", node: "head-0", generation: 0, hash: Array(repeating: 3, count: 32))]
            batch.output = [OutputBatch(context: "c1", node: "head-0", generation: 0, lines: [StoreContractTests.line(0, "hello")])]
            batch.outputCounts = [OutputCount(context: "c1", node: "head-0", generation: 0, count: 1, first: 0, bytes: 5)]
            try await first.commit(batch)

            // The second sees it, as written, once.
            guard case .changes(let seen) = try await second.catchUp() else { throw TestFailure("expected changes, not a reload") }
            #expect(seen.count == 1)
            #expect(seen.first?.commands == batch.commands)
            #expect(seen.first?.nodeTokens == batch.nodeTokens)
            #expect(seen.first?.output == batch.output)
            #expect(seen.first?.outputCounts == batch.outputCounts)
            guard case .changes(let again) = try await second.catchUp() else { throw TestFailure("expected changes") }
            #expect(again.isEmpty, "a change is caught up once")

            // The second writes next; the first, beginning a change, gets it before building its own.
            guard case .changes(let nothing) = try await second.beginWrite() else { throw TestFailure("expected changes") }
            #expect(nothing.isEmpty)
            var next = StoreBatch()
            next.operatorTokenHash = Array(repeating: 9, count: 32)
            try await second.commit(next)
            guard case .changes(let missed) = try await first.beginWrite() else { throw TestFailure("expected changes") }
            #expect(missed.map(\.operatorTokenHash) == [Array(repeating: 9, count: 32)])
            await first.endWrite()

            // A commit that would build on a change its store has not seen is refused, not interleaved.
            var third = StoreBatch()
            third.operatorTokenHash = Array(repeating: 4, count: 32)
            try await first.commit(third)
            do {
                var stale = StoreBatch()
                stale.operatorTokenHash = Array(repeating: 5, count: 32)
                try await second.commit(stale)
                Issue.record("a store committed past a change it had not seen")
            } catch {
                #expect((error as? StoreError)?.message.contains("another broker changed the state") == true)
            }
            #expect(try await second.load().operatorTokenHash == Array(repeating: 4, count: 32))
            await first.close()
            await second.close()
        }
    }
}
