import Foundation
import HTTPTypes
import MusterCore
import NIOHTTP1
import Testing

@testable import MusterBroker

/// Held long-polls wait outside routing, and routing is bounded: what keeps 10,000 waiting agents from holding
/// 10,000 routings' worth of memory.
@Suite("Routing gate and held long-polls", .timeLimit(.minutes(2)))
struct RoutingGateTests {
    @Test func `the admission queue admits up to its limit, then hands each departure's place on in arrival order`() {
        var queue = AdmissionQueue<Int>(limit: 2)
        #expect(queue.arrive(1) && queue.arrive(2), "two fit")
        #expect(!queue.arrive(3) && !queue.arrive(4) && !queue.arrive(5), "the rest wait")
        #expect(queue.waitingCount == 3 && queue.admitted == 2)
        let admittedWhileOthersWait = queue.admitIfFree()
        #expect(!admittedWhileOthersWait, "no room while others wait")
        #expect(queue.depart() == 3 && queue.depart() == 4, "first come, first admitted")
        #expect(queue.admitted == 2, "a handed-on place stays taken")
        #expect(queue.depart() == 5)
        #expect(queue.depart() == nil && queue.depart() == nil, "no one waits: places are freed")
        #expect(queue.admitted == 0 && queue.waitingCount == 0)
        let admittedWhenFree = queue.admitIfFree()
        #expect(admittedWhenFree && queue.admitted == 1)
    }

    @Test func `the admission queue keeps order over many arrivals and departures`() {
        var queue = AdmissionQueue<Int>(limit: 3)
        var admittedOrder: [Int] = []
        var next = 0
        var random = SystemRandomNumberGenerator()
        var inside = 0
        for _ in 0..<20_000 {
            if Bool.random(using: &random) {
                if queue.arrive(next) {
                    admittedOrder.append(next)
                    inside += 1
                }
                next += 1
            } else if inside > 0 {
                if let handed = queue.depart() { admittedOrder.append(handed) } else { inside -= 1 }
            }
            #expect(queue.admitted == inside && inside <= 3)
        }
        while inside > 0 {
            if let handed = queue.depart() { admittedOrder.append(handed) } else { inside -= 1 }
        }
        #expect(admittedOrder == Array(0..<next), "every arrival admitted once, in the order it came")
    }

    @Test func `a wake-up fired before the wait begins is not lost, one fired during it ends it, and only the first answer counts`() async throws {
        let early = AnswerWake(after: 0)
        early.fire(with: .success(Self.answer(version: 1)))
        #expect(try await early.wait()?.get().answer?.version == 1)
        #expect(early.isFired)
        #expect(await early.wait() == nil, "the answer is handed over once, not kept for as long as the wake lives")

        let late = AnswerWake(after: 1)
        async let waited = late.wait()
        late.fire(with: .failure(BrokerError(.notFound, code: "unknown-node", "node gone")))
        late.fire(with: .success(Self.answer(version: 2)))
        let result = await waited
        #expect(throws: BrokerError.self) { try result?.get() }
        #expect(await late.wait() == nil)
        #expect(late.after == 1)
    }

    @Test func `a cancelled wait ends with no answer, and a later firing is ignored`() async {
        let wake = AnswerWake(after: 0)
        let task = Task { await wake.wait() }
        task.cancel()
        let answer = await task.value
        #expect(answer == nil)
        #expect(wake.isFired)
        wake.fire(with: .success(Self.answer(version: 3)))
        #expect(await wake.wait() == nil, "the first firing (the cancellation's, with no answer) stands")
    }

    private static func answer(version: Int) -> AnswerResponse {
        AnswerResponse(released: true, state: .waiting, requirements: [], answer: NodeAnswer(version: version, identities: [], roles: [], data: []))
    }

    @Test func `the gate lets one through at a time with a limit of one, the next when it leaves`() async throws {
        let gate = RoutingGate(limit: 1)
        let (entered, enteredContinuation) = AsyncStream.makeStream(of: Int.self)
        let (release, releaseContinuation) = AsyncStream.makeStream(of: Void.self)
        let first = Task {
            await gate.enter()
            defer { gate.leave() }
            _ = enteredContinuation.yield(1)
            for await _ in release { break }
        }
        var events = entered.makeAsyncIterator()
        #expect(await events.next() == 1)
        let second = Task {
            await gate.enter()
            defer { gate.leave() }
            _ = enteredContinuation.yield(2)
        }
        try await waitUntil { gate.waiting == 1 }
        _ = releaseContinuation.yield()
        #expect(await events.next() == 2, "the waiting one goes on once the first leaves")
        await first.value
        await second.value
        #expect(gate.waiting == 0)
    }

    static let workers = 3
    static let cluster = """
        <cluster xmlns="http://www.globus.org/2008/06/workspace/metadata/logistics">
          <workspace><name>head</name><image>h</image><quantity>1</quantity><nic>public</nic>
            <ctx><provides><identity/><role>head</role></provides></ctx></workspace>
          <workspace><name>worker</name><image>w</image><quantity>\(workers)</quantity><nic>public</nic>
            <ctx><provides><identity/></provides><requires><role name="head" hostname="true" pubkey="true"/></requires></ctx></workspace>
        </cluster>
        """

    @Test func `held check-ins do not take the routing gate: with room for one routing, others are served while they wait`() async throws {
        var limits = BrokerLimits()
        limits.maxRouting = 1
        let broker = try await TestBroker.start(limits: limits)
        let created = try await broker.create(Self.cluster)
        let id = created.context.id
        let head = try #require(created.credentials.first { $0.node == "head-0" })
        let workers = created.credentials.filter { $0.node.hasPrefix("worker-") }
        #expect(workers.count == Self.workers)

        let held = Task {
            try await withThrowingTaskGroup(of: TestBroker.Reply.self) { group in
                for (offset, worker) in workers.enumerated() {
                    group.addTask { try await AgentRoundTripTests.checkIn(broker, id, worker, index: offset + 1, wait: 60) }
                }
                var replies: [TestBroker.Reply] = []
                for try await reply in group { replies.append(reply) }
                return replies
            }
        }
        try await waitUntil {
            try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text.contains("muster_waiting_long_polls \(Self.workers)")
        }
        // Three long-polls held, one routing at a time: the operator and the head are still served.
        let list = try await broker.request(.GET, BrokerRoutes.contexts, auth: .operatorToken)
        #expect(list.status == 200)
        let headReply = try await AgentRoundTripTests.checkIn(broker, id, head, index: 0, wait: 60)
        #expect(headReply.status == 200)
        #expect(try headReply.decode(AnswerResponse.self).released, "the head requires nothing")

        let replies = try await held.value
        #expect(replies.count == Self.workers)
        for reply in replies {
            #expect(reply.status == 200)
            let answer = try reply.decode(AnswerResponse.self)
            #expect(answer.released && answer.answer?.roles.first?.role == "head", "released with the head's role")
        }
        // A held request is counted once it is answered, with the status it was answered with.
        let metrics = try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text
        let line = metrics.split(separator: "\n").first {
            $0.hasPrefix("muster_http_requests_total") && $0.contains("checkin") && $0.contains("status=\"200\"")
        }
        #expect(line?.hasSuffix(" \(Self.workers + 1)") == true, "every check-in counted once: \(line ?? "none")")
        #expect(!metrics.contains("status=\"202\""), "the placeholder of a held request is never counted or sent")
        #expect(metrics.contains("muster_routing_waiting 0"), "no request waits to be routed once all are answered")
    }

    @Test func `a long-poll for a node removed while it waits is answered with the refusal`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cluster)
        let id = created.context.id
        let worker = try #require(created.credentials.first { $0.node == "worker-0" })
        async let poll = AgentRoundTripTests.checkIn(broker, id, worker, index: 1, wait: 60)
        try await waitUntil { try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text.contains("muster_waiting_long_polls 1") }
        let deleted = try await broker.request(.DELETE, BrokerRoutes.context(id) + "?force=true", auth: .operatorToken)
        #expect(deleted.status == 200)
        let reply = try await poll
        #expect(reply.status == 404, "the held request ends with the node's refusal, not a placeholder: \(reply.text)")
        #expect(reply.text.contains("\"error\""))
    }
}
