import Foundation
import MusterBroker
import MusterCore
import NIOHTTP1
import Testing

/// The broker enforces time limits by itself: nodes that never check in time out, leases end contexts, and a
/// deadline that passed while the broker was down is enforced when it starts again.
@Suite("Broker time limits")
struct BrokerDeadlineTests {
    static let document = """
        <cluster>
          <workspace><name>head</name><image>i</image><quantity>1</quantity><nic>public</nic>
            <ctx><provides><identity/><role>head</role></provides></ctx></workspace>
          <workspace><name>worker</name><image>i</image><quantity>2</quantity><nic>public</nic>
            <ctx><requires><role name="head"/></requires></ctx></workspace>
        </cluster>
        """

    func create(_ broker: TestBroker, query: String) async throws -> CreatedContext {
        let reply = try await broker.request(.POST, "/v1/contexts?name=limits&launch=true&\(query)", body: Data(Self.document.utf8))
        try #require(reply.status == 201, "\(reply.status) \(reply.text)")
        return try reply.decode(CreatedContext.self)
    }

    func detail(_ broker: TestBroker, _ id: ContextID) async throws -> ContextDetail {
        try await broker.request(.GET, BrokerRoutes.context(id)).decode(ContextDetail.self)
    }

    @Test func `launched nodes that never check in time out at the boot timeout; the one that checked in does not`() async throws {
        let broker = try await TestBroker.start()
        // Ten seconds, not one: the head's check-in must land first even in a test run busy with 700 others.
        let created = try await create(broker, query: "bootTimeout=10")
        #expect(created.context.limits?.bootTimeoutSeconds == 10)
        let checkIn = try await broker.checkIn(created.context.id, created.credentials.first { $0.node == "head-0" }!, index: 0)
        #expect(checkIn.status == 200, "\(checkIn.status) \(checkIn.text)")
        try await waitUntil { try await detail(broker, created.context.id).context.status.count(.timedOut) == 2 }
        let nodes = try await detail(broker, created.context.id).context.nodes
        #expect(nodes.first { $0.name == "head-0" }?.state != .timedOut)
        let worker = try #require(nodes.first { $0.name == "worker-0" })
        #expect(worker.exitCode == NodeExitCode.timeout)
        #expect(worker.message?.contains("boot timeout") == true)
        try await broker.stop()
    }

    @Test func `a deadline that passed while the broker was down is enforced when it starts again`() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("muster-deadline-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let first = try await TestBroker.start(stateDirectory: state)
        let created = try await create(first, query: "lease=1")
        #expect(created.context.limits?.leaseEnds != nil)
        try await first.stop()
        let again = try await TestBroker.start(stateDirectory: state)
        try await waitUntil { try await detail(again, created.context.id).context.status.terminated }
        let nodes = try await detail(again, created.context.id).context.nodes
        #expect(nodes.allSatisfy { $0.state == .killed && $0.message == "the context's lease ended" })
        try await again.stop()
    }

    @Test func `limits out of range are refused with 400`() async throws {
        let broker = try await TestBroker.start()
        for query in ["bootTimeout=0", "lease=-5", "deadline=99999999999999999999", "bootTimeout=abc"] {
            let reply = try await broker.request(.POST, "/v1/contexts?name=x&\(query)", body: Data(Self.document.utf8))
            #expect(reply.status == 400, "\(query): \(reply.status)")
        }
        #expect(try await broker.request(.GET, BrokerRoutes.contexts).decode(ContextList.self).contexts.isEmpty, "nothing was created")
        try await broker.stop()
    }
}
