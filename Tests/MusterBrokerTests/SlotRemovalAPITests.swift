import Foundation
import MusterBroker
import MusterCore
import NIOHTTP1
import Testing

/// `DELETE /v1/contexts/{id}/nodes/{node}`: scaling a workspace down over HTTP.
@Suite("Slot removal over HTTP")
struct SlotRemovalAPITests {
    /// A head that waits for every worker to check in, and three workers.
    static let farm = """
        <cluster>
          <workspace><name>head</name><image>h</image><quantity>1</quantity><nic>public</nic>
            <ctx><provides><identity/></provides><requires><role name="worker"/></requires></ctx></workspace>
          <workspace><name>worker</name><image>w</image><quantity>3</quantity><nic>public</nic>
            <ctx><provides><identity/><role>worker</role></provides></ctx></workspace>
        </cluster>
        """

    @Test func `removing a worker that never came up releases the head, and its token means nothing after`() async throws {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-removal-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let broker = try await TestBroker.start(stateDirectory: folder)
        let created = try await broker.create(Self.farm)
        let id = created.context.id
        let tokens = Dictionary(uniqueKeysWithValues: created.credentials.map { ($0.node, $0) })
        #expect(try await broker.checkIn(id, tokens["worker-0"]!, index: 1).status == 200)
        #expect(try await broker.checkIn(id, tokens["worker-1"]!, index: 2).status == 200)
        let waiting = try await broker.checkIn(id, tokens["head-0"]!, index: 0).decode(AnswerResponse.self)
        #expect(!waiting.released)

        // Only the operator may remove a slot; a node's token is not enough, not even its own.
        let asNode = try await broker.request(.DELETE, BrokerRoutes.node(id, "worker-2"), auth: .token(tokens["worker-2"]!.token))
        #expect(asNode.status == 401 || asNode.status == 403, "\(asNode.text)")
        let removed = try await broker.request(.DELETE, BrokerRoutes.node(id, "worker-2"))
        #expect(removed.status == 200, "\(removed.text)")
        #expect(try removed.decode(ActionResult.self).nodes.map(\.name) == ["worker-2"])

        let head = try await broker.request(.GET, BrokerRoutes.answer(id, "head-0") + "?wait=0", auth: .token(tokens["head-0"]!.token))
        let answer = try head.decode(AnswerResponse.self)
        #expect(answer.released)
        #expect(answer.answer?.roles.first?.providers.map(\.node) == ["worker-0", "worker-1"])
        let gone = try await broker.request(.GET, BrokerRoutes.answer(id, "worker-2") + "?wait=0", auth: .token(tokens["worker-2"]!.token))
        #expect(gone.status == 401, "\(gone.text)")
        #expect(try await broker.request(.GET, BrokerRoutes.node(id, "worker-2")).status == 404)
        let events = try await broker.server.store.events(after: 0, context: id, limit: 1_000)
        #expect(events.contains { $0.change == .nodeRemoved(node: "worker-2", workspace: "worker") })

        // A running node, an unknown one and a workspace's last node are refused, each with a reason.
        let running = try await broker.request(.DELETE, BrokerRoutes.node(id, "worker-0"))
        #expect(running.status == 409)
        #expect(running.error?.message.contains("kill it first") == true, "\(running.text)")
        #expect(try await broker.request(.DELETE, BrokerRoutes.node(id, "worker-9")).status == 404)
        #expect(try await broker.request(.POST, BrokerRoutes.kill(id, "head-0")).status == 200)
        let last = try await broker.request(.DELETE, BrokerRoutes.node(id, "head-0"))
        #expect(last.status == 409)
        #expect(last.error?.message.contains("keeps at least one") == true, "\(last.text)")
        try await broker.stop()

        // After a restart the slot stays gone, and a new one takes a name never used.
        let again = try await TestBroker.start(stateDirectory: folder)
        let detail = try await again.request(.GET, BrokerRoutes.context(id)).decode(ContextDetail.self)
        #expect(detail.context.nodes.map(\.name) == ["head-0", "worker-0", "worker-1"])
        let added = try await again.request(
            .POST,
            BrokerRoutes.workspaceNodes(id, workspace: "worker"),
            body: try JSONEncoder().encode(AddNodesRequest(count: 1, launch: false))
        )
        #expect(try added.decode(ActionResult.self).nodes.map(\.name) == ["worker-3"], "\(added.text)")
        try await again.stop()
    }
}
