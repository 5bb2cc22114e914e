import AsyncHTTPClient
import Foundation
import MusterBroker
import MusterCore
import NIOCore
import NIOHTTP1
import Testing

/// Long-polls, event streams, restarts, secrets: the broker over time.
@Suite("Broker over time")
struct BrokerLiveTests {
    @Test func `a waiting long-poll is answered as soon as the last provider checks in`() async throws {
        // The server would hold the long-poll for 10 minutes: an answer well before that comes from the release.
        let broker = try await TestBroker.start(longPollSeconds: 600)
        let created = try await broker.create(BrokerAPITests.cpe)
        let id = created.context.id
        let worker = created.credentials[1]
        _ = try await broker.checkIn(id, worker, index: 1)
        let clock = ContinuousClock()
        async let poll = broker.request(
            .GET,
            BrokerRoutes.answer(id, worker.node) + "?after=0&wait=600",
            auth: .token(worker.token),
            timeout: .seconds(660)
        )
        // Wait until the broker holds the long-poll (observable in its metrics), then release it.
        try await waitUntil { try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text.contains("muster_waiting_long_polls 1") }
        let checkedIn = clock.now
        _ = try await broker.checkIn(id, created.credentials[0], index: 0)
        let reply = try await poll
        let latency = clock.now - checkedIn
        let answer = try reply.decode(AnswerResponse.self)
        #expect(answer.released)
        #expect(answer.answer?.roles.first?.providers.map(\.node) == ["head-0"])
        // Not a timing goal (the benchmark measures that): proof that the release, not the 10-minute wait, answered.
        #expect(latency < .seconds(300), "answered after \(latency)")
        try await broker.stop()
    }

    @Test func `a long-poll ends when the server's wait ends, and the agent simply asks again`() async throws {
        let broker = try await TestBroker.start(longPollSeconds: 1)
        let created = try await broker.create(BrokerAPITests.cpe)
        let worker = created.credentials[1]
        _ = try await broker.checkIn(created.context.id, worker, index: 1)
        let reply = try await broker.request(.GET, BrokerRoutes.answer(created.context.id, worker.node) + "?wait=60", auth: .token(worker.token))
        #expect(reply.status == 200)
        #expect(try reply.decode(AnswerResponse.self).released == false)
        try await broker.stop()
    }

    @Test func `the event stream resumes after a dropped connection with no gap and no duplicate`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(BrokerAPITests.cpe)
        let id = created.context.id
        // First connection: read until the context-created event, then drop.
        var first = try await EventStreamReader.open(broker, path: BrokerRoutes.events)
        let early = try await first.next(count: 2)
        #expect(early.first?.change.kind == "context-created")
        let lastSeen = early.last!.sequence
        first.close()

        // Changes happen while nobody is connected.
        for (index, credential) in created.credentials.enumerated() { _ = try await broker.checkIn(id, credential, index: index) }
        let snapshot = try await broker.request(.GET, BrokerRoutes.snapshot).decode(BrokerSnapshot.self)

        // Reconnect with Last-Event-ID: every later event arrives once, in order.
        var second = try await EventStreamReader.open(broker, path: BrokerRoutes.events, lastEventID: lastSeen)
        let rest = try await second.next(count: Int(snapshot.sequence - lastSeen))
        #expect(rest.map(\.sequence) == Array((lastSeen + 1)...snapshot.sequence))
        // And live events keep coming on the same connection.
        _ = try await broker.request(.POST, BrokerRoutes.kill(id, "worker-1"))
        let live = try await second.next(count: 1)
        #expect(live.first?.sequence == snapshot.sequence + 1)
        second.close()
        try await broker.stop()
    }

    @Test func `the event stream can follow one context`() async throws {
        let broker = try await TestBroker.start()
        let first = try await broker.create(BrokerAPITests.cpe)
        let second = try await broker.create(BrokerAPITests.cpe)
        var reader = try await EventStreamReader.open(broker, path: BrokerRoutes.events + "?context=\(second.context.id)")
        _ = try await broker.request(.POST, BrokerRoutes.kill(first.context.id, "head-0"))
        _ = try await broker.request(.POST, BrokerRoutes.kill(second.context.id, "head-0"))
        let events = try await reader.next(count: 3)
        #expect(events.allSatisfy { $0.context == second.context.id })
        reader.close()
        try await broker.stop()
    }

    @Test func `a node's output streams live and resumes by line index`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(BrokerAPITests.cpe)
        let id = created.context.id
        let head = created.credentials[0]
        _ = try await broker.checkIn(id, head, index: 0)
        func send(_ range: Range<Int>) async throws {
            let lines = range.map { OutputLine(index: $0, time: Date(), phase: 0, script: "0-etchosts.sh", stream: .stdout, text: "out \($0)") }
            _ = try await broker.request(
                .POST,
                BrokerRoutes.output(id, head.node),
                auth: .token(head.token),
                body: broker.json(OutputAppendRequest(lines: lines))
            )
        }
        try await send(0..<3)
        var reader = try await EventStreamReader.open(broker, path: BrokerRoutes.outputStream(id, head.node), lastEventID: 0)
        try await send(3..<5)
        let lines = try await reader.nextOutput(count: 4)
        #expect(lines.map(\.text) == ["out 1", "out 2", "out 3", "out 4"])
        reader.close()
        try await broker.stop()
    }

    @Test func `a retry ends the node's output streams: the new generation's output starts again from 0`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(BrokerAPITests.cpe)
        let id = created.context.id
        let head = created.credentials[0]
        _ = try await broker.checkIn(id, head, index: 0)
        let line = OutputLine(index: 0, time: Date(), phase: 0, script: "s", stream: .stdout, text: "first generation")
        _ = try await broker.request(
            .POST,
            BrokerRoutes.output(id, head.node),
            auth: .token(head.token),
            body: broker.json(OutputAppendRequest(lines: [line]))
        )
        var reader = try await EventStreamReader.open(broker, path: BrokerRoutes.outputStream(id, head.node))
        #expect(try await reader.nextOutput(count: 1).map(\.text) == ["first generation"])
        _ = try await broker.request(.POST, BrokerRoutes.kill(id, head.node))
        let retried = try await broker.request(.POST, BrokerRoutes.retry(id, head.node)).decode(ActionResult.self)
        await #expect(throws: TestFailure.self) { _ = try await reader.nextMessage() }
        let page = try await broker.request(.GET, BrokerRoutes.output(id, head.node)).decode(OutputPage.self)
        #expect(page.total == 0 && page.lines.isEmpty)
        #expect(retried.credentials.first?.generation == 1)
        try await broker.stop()
    }

    @Test func `a restarted broker on the same state file carries on and the context completes`() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-restart-\(UUID().uuidString)").path
        let broker = try await TestBroker.start(stateDirectory: folder)
        let created = try await broker.create(BrokerAPITests.cpe)
        let id = created.context.id
        let tokens = created.credentials
        _ = try await broker.checkIn(id, tokens[1], index: 1)
        let lines = [OutputLine(index: 0, time: Date(), phase: 0, script: "s", stream: .stdout, text: "before restart")]
        _ = try await broker.request(
            .POST,
            BrokerRoutes.output(id, tokens[1].node),
            auth: .token(tokens[1].token),
            body: broker.json(OutputAppendRequest(lines: lines))
        )
        let before = try await broker.request(.GET, BrokerRoutes.snapshot).decode(BrokerSnapshot.self)
        try await broker.stop()

        let restarted = try await TestBroker.start(stateDirectory: folder)
        let after = try await restarted.request(.GET, BrokerRoutes.snapshot).decode(BrokerSnapshot.self)
        #expect(after == before, "every context, node and sequence number is back")
        let page = try await restarted.request(.GET, BrokerRoutes.output(id, tokens[1].node)).decode(OutputPage.self)
        #expect(page.lines.map(\.text) == ["before restart"])
        // The old tokens still work; the rest of the nodes check in and report.
        _ = try await restarted.checkIn(id, tokens[0], index: 0)
        _ = try await restarted.checkIn(id, tokens[2], index: 2)
        for credential in tokens {
            let reply = try await restarted.request(
                .POST,
                BrokerRoutes.report(id, credential.node),
                auth: .token(credential.token),
                body: restarted.json(ResultReport(.ok))
            )
            #expect(reply.status == 204, "\(credential.node): \(reply.text)")
        }
        let status = try await restarted.request(.GET, BrokerRoutes.context(id)).decode(ContextDetail.self).context.status
        #expect(status.complete && status.allOk)
        // Events continue from where they were, and the stored history resumes for a follower.
        var reader = try await EventStreamReader.open(restarted, path: BrokerRoutes.events, lastEventID: before.sequence - 1)
        let resumed = try await reader.next(count: 2)
        #expect(resumed.map(\.sequence) == [before.sequence, before.sequence + 1])
        reader.close()
        try await restarted.stop()
    }

    @Test func `data values never reach the logs or operator views`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(BrokerAPITests.cpe)
        let id = created.context.id
        for (index, credential) in created.credentials.enumerated() { _ = try await broker.checkIn(id, credential, index: index) }
        let secret = "hunter2-very-secret"
        let detail = try await broker.request(.GET, BrokerRoutes.context(id))
        #expect(!detail.text.contains(secret))
        let masked = try detail.decode(ContextDetail.self).data["worker"]
        #expect(masked?.first?.name == "secret")
        #expect(masked?.first?.size == secret.utf8.count)
        #expect(masked?.first?.sha256.count == 12)
        for path in [BrokerRoutes.snapshot, BrokerRoutes.contexts, BrokerRoutes.node(id, "worker-0")] {
            #expect(!(try await broker.request(.GET, path).text.contains(secret)), "\(path)")
        }
        var reader = try await EventStreamReader.open(broker, path: BrokerRoutes.events)
        let events = try await reader.next(count: 5)
        reader.close()
        #expect(!String(decoding: try WireFormat.encoder().encode(events), as: UTF8.self).contains(secret))
        // The node that requires it does get it.
        let answer = try await broker.request(.GET, BrokerRoutes.answer(id, "worker-0") + "?wait=0", auth: .token(created.credentials[1].token))
        #expect(answer.text.contains(secret))
        try await broker.stop()
        #expect(!broker.logs.all.isEmpty)
        #expect(broker.logs.all.allSatisfy { !$0.contains(secret) })
        #expect(broker.logs.all.allSatisfy { line in !created.credentials.contains { line.contains($0.token) } })
    }
}

/// Polls a condition until it holds (for state another task changes), failing after a generous bound.
func waitUntil(_ condition: () async throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for _ in 0..<1_000 {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("condition never held", sourceLocation: sourceLocation)
}
