import Foundation
import MusterBroker
import MusterCore
import NIOCore
import NIOHTTP1
import Testing

/// Idle means idle (issue 10.2): a node that is ok and stays attached costs the broker nothing between changes.
@Suite("An ok node that stays attached")
struct IdleNodeTests {
    @Test func `its long-poll for a newer answer is held for the wait, not answered at once`() async throws {
        let broker = try await TestBroker.start(longPollSeconds: 2)
        let created = try await broker.create(BrokerAPITests.cpe)
        let id = created.context.id
        let worker = created.credentials[1]
        _ = try await broker.checkIn(id, created.credentials[0], index: 0)
        _ = try await broker.checkIn(id, worker, index: 1)
        let released = try await broker.request(.GET, BrokerRoutes.answer(id, worker.node) + "?after=0&wait=2", auth: .token(worker.token))
            .decode(AnswerResponse.self)
        let version = try #require(released.answer?.version)
        let report = try await broker.request(
            .POST,
            BrokerRoutes.report(id, worker.node),
            auth: .token(worker.token),
            body: broker.json(ResultReport(.ok))
        )
        #expect(report.status == 204)

        // The agent asks for anything newer than what it applied: nothing is, so the broker holds the request.
        let clock = ContinuousClock()
        let asked = clock.now
        async let poll = broker.request(
            .GET,
            BrokerRoutes.answer(id, worker.node) + "?after=\(version)&wait=2",
            auth: .token(worker.token),
            timeout: .seconds(30)
        )
        try await waitUntil { try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text.contains("muster_waiting_long_polls 1") }
        let reply = try await poll
        let held = clock.now - asked
        let answer = try reply.decode(AnswerResponse.self)
        #expect(answer.state == .ok)
        #expect(!answer.isFinal, "an ok node stays attached")
        #expect(answer.answer.map(\.version) ?? version <= version, "no newer answer came")
        // Held until the server's wait ended (2 s), not answered at once; the bound allows for a slow machine.
        #expect(held >= .milliseconds(1_500), "answered after \(held)")
        try await broker.stop()
    }
}
