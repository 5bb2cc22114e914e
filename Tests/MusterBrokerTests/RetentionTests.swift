import Foundation
import MusterBroker
import MusterCore
import NIOHTTP1
import Testing

/// Deleting contexts and snapshots: a long-lived broker keeps only what it still serves, and a restart replays
/// only what came after its last snapshot.
@Suite("Retention")
struct RetentionTests {
    static func folder() -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-retention-\(UUID().uuidString.prefix(8))")
    }

    @Test func `a context with running nodes is deleted only with force, and then nothing of it is left`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(BrokerAPITests.cpe)
        let id = created.context.id
        let tokens = Dictionary(uniqueKeysWithValues: created.credentials.map { ($0.node, $0) })
        #expect(try await broker.checkIn(id, tokens["head-0"]!, index: 0).status == 200)

        let refused = try await broker.request(.DELETE, BrokerRoutes.context(id))
        #expect(refused.status == 409)
        #expect(refused.error?.message.contains("still running") == true, "\(refused.text)")
        #expect(try await broker.request(.GET, BrokerRoutes.context(id)).status == 200)

        let deleted = try await broker.request(.DELETE, BrokerRoutes.context(id) + "?force=true")
        #expect(deleted.status == 200, "\(deleted.text)")
        #expect(try deleted.decode(ContextSummary.self).id == id)
        #expect(try await broker.request(.GET, BrokerRoutes.context(id)).status == 404)
        #expect(try await broker.request(.DELETE, BrokerRoutes.context(id)).status == 404)
        // Its nodes' tokens mean nothing now.
        let answer = try await broker.request(.GET, BrokerRoutes.answer(id, "worker-0") + "?wait=0", auth: .token(tokens["worker-0"]!.token))
        #expect(answer.status == 401)
        // Of its events only the last one is kept, for followers: context-deleted.
        let events = try await broker.server.store.events(after: 0, context: id, limit: 1_000)
        #expect(events.map(\.change.kind) == ["context-deleted"])
        #expect(try await broker.server.store.output(context: id, node: "head-0", generation: 0, from: 0, limit: 10, maxBytes: 1 << 20).isEmpty)
        // The id is free again, and the broker works on.
        let again = try await broker.create(BrokerAPITests.cpe)
        #expect(again.context.id != id || again.context.status.registered == 0)
        try await broker.stop()
    }

    @Test func `a context whose nodes never launched or all finished is deleted without force`() async throws {
        let broker = try await TestBroker.start()
        let pending = try await broker.create(BrokerAPITests.cpe)
        #expect(try await broker.request(.DELETE, BrokerRoutes.context(pending.context.id)).status == 200)
        let ended = try await broker.create(BrokerAPITests.cpe)
        #expect(try await broker.request(.POST, BrokerRoutes.terminate(ended.context.id)).status == 200)
        #expect(try await broker.request(.DELETE, BrokerRoutes.context(ended.context.id)).status == 200)
        let list = try await broker.request(.GET, BrokerRoutes.contexts).decode(ContextList.self)
        #expect(list.contexts.isEmpty)
        try await broker.stop()
    }

    @Test func `after a delete a restart loads the snapshot, replays nothing, and serves the other contexts as before`() async throws {
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try await TestBroker.start(stateDirectory: folder)
        let kept = try await first.create(BrokerAPITests.cpe, name: "kept")
        let gone = try await first.create(BrokerAPITests.cpe, name: "gone")
        let tokens = Dictionary(uniqueKeysWithValues: kept.credentials.map { ($0.node, $0) })
        #expect(try await first.checkIn(kept.context.id, tokens["head-0"]!, index: 0).status == 200)
        #expect(try await first.request(.DELETE, BrokerRoutes.context(gone.context.id)).status == 200)
        let before = try await first.request(.GET, BrokerRoutes.context(kept.context.id)).decode(ContextDetail.self)
        let metrics = try await first.request(.GET, BrokerRoutes.metrics, auth: .none).text
        #expect(metrics.contains("muster_store_operation_duration_seconds_count{kind=\"sqlite\",operation=\"commit\"}"), "\(metrics)")
        try await first.stop()

        let stored = try await SQLiteStore(path: folder + "/state.sqlite").load()
        #expect(stored.snapshot != nil)
        #expect(stored.commands.isEmpty)

        let second = try await TestBroker.start(stateDirectory: folder)
        let list = try await second.request(.GET, BrokerRoutes.contexts).decode(ContextList.self)
        #expect(list.contexts.map(\.name) == ["kept"])
        let after = try await second.request(.GET, BrokerRoutes.context(kept.context.id)).decode(ContextDetail.self)
        #expect(after.context == before.context)
        // The kept context goes on: the worker is released by the head that checked in before the restart.
        let worker = try await second.checkIn(kept.context.id, tokens["worker-0"]!, index: 1).decode(AnswerResponse.self)
        #expect(worker.released)
        try await second.stop()
    }

    @Test func `every so many commands a snapshot is taken, and a restart replays only the commands after it`() async throws {
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var limits = BrokerLimits()
        limits.snapshotInterval = 4
        limits.snapshotCommandsPerNode = 0
        let first = try await TestBroker.start(stateDirectory: folder, limits: limits)
        let created = try await first.create(BrokerAPITests.cpe)
        let id = created.context.id
        for (index, credential) in created.credentials.sorted(by: { $0.node < $1.node }).enumerated() {
            #expect(try await first.checkIn(id, credential, index: index).status == 200)
        }
        let before = try await first.request(.GET, BrokerRoutes.context(id)).decode(ContextDetail.self)
        let eventsBefore = try await first.server.store.events(after: 0, context: nil, limit: 10_000)
        try await first.stop()

        let stored = try await SQLiteStore(path: folder + "/state.sqlite").load()
        #expect(stored.snapshot != nil)
        #expect(stored.commands.count < 4)

        let second = try await TestBroker.start(stateDirectory: folder, limits: limits)
        let after = try await second.request(.GET, BrokerRoutes.context(id)).decode(ContextDetail.self)
        #expect(after.context == before.context)
        // The event sequence goes on where it was.
        let headReport = try await second.request(
            .POST,
            BrokerRoutes.report(id, "head-0"),
            auth: .token(created.credentials.first { $0.node == "head-0" }!.token),
            body: try second.json(ResultReport(.ok))
        )
        #expect(headReport.status == 204, "\(headReport.text)")
        let eventsAfter = try await second.server.store.events(after: 0, context: nil, limit: 10_000)
        #expect(eventsAfter.count > eventsBefore.count)
        #expect(eventsAfter.map(\.sequence) == Array(1...UInt64(eventsAfter.count)))
        try await second.stop()
    }

    @Test func `the snapshot interval grows with the nodes held, four commands per node past the base`() {
        let limits = BrokerLimits()
        #expect(limits.snapshotInterval(nodes: 0) == 20_000)
        #expect(limits.snapshotInterval(nodes: 5_000) == 20_000)
        #expect(limits.snapshotInterval(nodes: 10_000) == 40_000)
        #expect(limits.snapshotInterval(nodes: 100_000) == 400_000)
    }
}
