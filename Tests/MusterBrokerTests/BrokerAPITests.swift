import AsyncHTTPClient
import Foundation
import MusterBroker
import MusterCore
import NIOCore
import NIOHTTP1
import Testing

/// Every endpoint over a real socket: happy paths and each error status.
@Suite("Broker API")
struct BrokerAPITests {
    static let cpe = """
        <cluster xmlns="http://www.globus.org/2008/06/workspace/metadata/logistics">
          <workspace><name>head</name><image>h</image><quantity>1</quantity><nic>public</nic>
            <ctx><provides><identity/><role>head</role></provides></ctx></workspace>
          <workspace><name>worker</name><image>w</image><quantity>2</quantity><nic>public</nic>
            <ctx><provides><identity/></provides>
              <requires><role name="head" hostname="true" pubkey="true"/><data name="secret"><![CDATA[hunter2-very-secret]]></data></requires>
            </ctx></workspace>
        </cluster>
        """

    @Test func `the contexts list says who launches each context's nodes`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe, launch: true)
        let list = try await broker.request(.GET, BrokerRoutes.contexts).decode(ContextList.self)
        #expect(list.contexts.map(\.launcher) == ["external"], "a broker without a launcher leaves launching to others")
        // Once a launcher outside says a node is an EC2 instance, the context says so.
        let claimed = try await broker.request(.POST, BrokerRoutes.claim(created.context.id, "head-0"))
        #expect(claimed.status == 200, "\(claimed.text)")
        let report = LaunchReport(
            generation: 0,
            event: .machine,
            machine: MachineDetails(instanceID: "i-0123456789abcdef0", state: "running", privateIP: "10.0.0.5")
        )
        let reported = try await broker.request(
            .POST,
            BrokerRoutes.launchReport(created.context.id, "head-0"),
            body: try JSONEncoder().encode(report)
        )
        #expect(reported.status == 204, "\(reported.text)")
        let after = try await broker.request(.GET, BrokerRoutes.contexts).decode(ContextList.self)
        #expect(after.contexts.map(\.launcher) == ["ec2 (ext)"])
        try await broker.stop()
    }

    @Test func `health and metrics need no token`() async throws {
        let broker = try await TestBroker.start()
        let health = try await broker.request(.GET, BrokerRoutes.health, auth: .none)
        #expect(health.status == 200)
        #expect(try health.decode(HealthStatus.self).status == "ok")
        let metrics = try await broker.request(.GET, BrokerRoutes.metrics, auth: .none)
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("muster_nodes{state=\"pending\"}"))
        #expect(metrics.text.contains("muster_http_requests_total"))
        try await broker.stop()
    }

    @Test func `request metrics count every request of a route`() async throws {
        let broker = try await TestBroker.start()
        for _ in 0..<3 { _ = try await broker.request(.GET, BrokerRoutes.health, auth: .none) }
        let text = try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text
        let line = text.split(separator: "\n").first {
            $0.hasPrefix("muster_http_requests_total{") && $0.contains("route=\"\(BrokerRoutes.health)\"") && $0.contains("status=\"200\"")
        }
        #expect(line?.split(separator: " ").last == "3", "\(line ?? "no line for the health route")")
        try await broker.stop()
    }

    @Test func `creating a context returns it with one token per node`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe, name: "cpe")
        #expect(created.context.name == "cpe")
        #expect(created.context.id.rawValue.hasPrefix("cpe-"))
        #expect(created.context.nodes.map(\.name) == ["head-0", "worker-0", "worker-1"])
        #expect(created.credentials.map(\.node) == ["head-0", "worker-0", "worker-1"])
        #expect(Set(created.credentials.map(\.token)).count == 3)
        #expect(created.credentials.allSatisfy { $0.token.hasPrefix("mst_node_") && $0.token.count > 40 })
        let list = try await broker.request(.GET, BrokerRoutes.contexts).decode(ContextList.self)
        #expect(list.contexts.map(\.id) == [created.context.id])
        #expect(list.contexts[0].status.expected == 3)
        try await broker.stop()
    }

    @Test func `an invalid document is a 422 carrying its diagnostics`() async throws {
        let broker = try await TestBroker.start()
        let reply = try await broker.request(
            .POST,
            BrokerRoutes.contexts,
            body: Data("<cluster><workspace><name>a</name></workspace></cluster>".utf8)
        )
        #expect(reply.status == 422)
        let error = try #require(reply.error)
        #expect(error.code == "invalid-document")
        #expect(error.diagnostics?.map(\.code) == ["missing-image", "missing-quantity", "missing-nic", "missing-ctx"])
        #expect(error.diagnostics?.first?.location == SourcePosition(line: 1, column: 10))
        let list = try await broker.request(.GET, BrokerRoutes.contexts).decode(ContextList.self)
        #expect(list.contexts.isEmpty, "nothing changes on a rejected request")
        try await broker.stop()
    }

    @Test func `the seed flow: check in, long-poll, output, scripts, report, all over HTTP`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe)
        let id = created.context.id
        let tokens = Dictionary(uniqueKeysWithValues: created.credentials.map { ($0.node, $0) })

        // A worker checks in first and waits on the head.
        let workerIn = try await broker.checkIn(id, tokens["worker-0"]!, index: 1)
        #expect(workerIn.status == 200)
        let waiting = try workerIn.decode(AnswerResponse.self)
        #expect(!waiting.released && waiting.state == .waiting)
        #expect(waiting.requirements.first?.missing == ["head-0"])

        // A long-poll with a zero wait answers at once, still waiting.
        let immediate = try await broker.request(.GET, BrokerRoutes.answer(id, "worker-0") + "?wait=0", auth: .token(tokens["worker-0"]!.token))
        #expect(try immediate.decode(AnswerResponse.self).released == false)

        // The head checks in; it is released at once (it requires nothing).
        let headIn = try await broker.checkIn(id, tokens["head-0"]!, index: 0).decode(AnswerResponse.self)
        #expect(headIn.released && headIn.state == .configuring)

        // Now the worker's answer names the head, and carries its data value.
        let answer = try await broker.request(.GET, BrokerRoutes.answer(id, "worker-0") + "?after=0&wait=5", auth: .token(tokens["worker-0"]!.token))
        let released = try answer.decode(AnswerResponse.self)
        #expect(released.released)
        #expect(released.answer?.roles.first?.providers.map(\.node) == ["head-0"])
        #expect(released.answer?.roles.first?.providers.first?.identity.ip == "127.0.1.1")
        #expect(released.answer?.data == [DataSpec(name: "secret", value: "hunter2-very-secret")])

        // Scripts and output.
        let worker = tokens["worker-0"]!.token
        let script = ScriptRef(phase: 1, script: "1-ipandhost/head", arguments: ["127.0.1.1", "head-0", "head-0.test.muster.local"])
        #expect(
            try await broker.request(
                .POST,
                BrokerRoutes.scripts(id, "worker-0"),
                auth: .token(worker),
                body: broker.json(ScriptReport(script: script))
            ).status == 204
        )
        let lines = (0..<3).map {
            OutputLine(index: $0, time: Date(), phase: 1, script: script.script, stream: $0 == 2 ? .stderr : .stdout, text: "line \($0)")
        }
        let appended = try await broker.request(
            .POST,
            BrokerRoutes.output(id, "worker-0"),
            auth: .token(worker),
            body: broker.json(OutputAppendRequest(lines: lines))
        )
        #expect(try appended.decode(OutputAppendResult.self).next == 3)
        // The same lines again (a retried request) are skipped, not duplicated.
        let again = try await broker.request(
            .POST,
            BrokerRoutes.output(id, "worker-0"),
            auth: .token(worker),
            body: broker.json(OutputAppendRequest(lines: lines))
        )
        #expect(try again.decode(OutputAppendResult.self).next == 3)
        #expect(
            try await broker.request(
                .POST,
                BrokerRoutes.scripts(id, "worker-0"),
                auth: .token(worker),
                body: broker.json(ScriptReport(script: script, exitCode: 0))
            ).status == 204
        )
        #expect(
            try await broker.request(.POST, BrokerRoutes.report(id, "worker-0"), auth: .token(worker), body: broker.json(ResultReport(.ok))).status
                == 204
        )

        let page = try await broker.request(.GET, BrokerRoutes.output(id, "worker-0") + "?from=1&limit=10").decode(OutputPage.self)
        #expect(page.lines.map(\.text) == ["line 1", "line 2"])
        #expect(page.lines.last?.stream == .stderr)
        #expect(page.next == 3 && page.total == 3)

        let node = try await broker.request(.GET, BrokerRoutes.node(id, "worker-0")).decode(NodeSnapshot.self)
        #expect(node.state == .ok)
        #expect(node.timeline.first?.exitCode == 0)
        try await broker.stop()
    }

    @Test func `output is paged so that a huge log never comes back in one response`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe)
        let id = created.context.id
        let head = created.credentials[0]
        _ = try await broker.checkIn(id, head, index: 0)
        let text = String(repeating: "x", count: 10_000)
        let lines = (0..<300).map { OutputLine(index: $0, time: Date(), phase: 0, script: "0-etchosts.sh", stream: .stdout, text: text) }
        for chunk in stride(from: 0, to: lines.count, by: 50) {
            let reply = try await broker.request(
                .POST,
                BrokerRoutes.output(id, head.node),
                auth: .token(head.token),
                body: broker.json(OutputAppendRequest(lines: Array(lines[chunk..<chunk + 50])))
            )
            #expect(reply.status == 200)
        }
        let first = try await broker.request(.GET, BrokerRoutes.output(id, head.node) + "?limit=5000").decode(OutputPage.self)
        #expect(first.total == 300)
        #expect(first.lines.count < 300, "a page holds about a megabyte, not 3 MB")
        #expect(first.lines.count >= 100)
        let second = try await broker.request(.GET, BrokerRoutes.output(id, head.node) + "?from=\(first.next)&limit=5000").decode(OutputPage.self)
        #expect(second.lines.first?.index == first.next)
        try await broker.stop()
    }

    @Test func `an output gap is refused with the index the broker expects`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe)
        let head = created.credentials[0]
        _ = try await broker.checkIn(created.context.id, head, index: 0)
        let late = [OutputLine(index: 5, time: Date(), phase: 0, script: "s", stream: .stdout, text: "x")]
        let reply = try await broker.request(
            .POST,
            BrokerRoutes.output(created.context.id, head.node),
            auth: .token(head.token),
            body: broker.json(OutputAppendRequest(lines: late))
        )
        #expect(reply.status == 409)
        #expect(reply.error?.code == "output-gap")
        #expect(reply.error?.expected == 0)
        try await broker.stop()
    }

    @Test func `operator actions: launch, add nodes, kill, retry, terminate`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe)
        let id = created.context.id
        let launched = try await broker.request(.POST, BrokerRoutes.launch(id)).decode(ActionResult.self)
        #expect(launched.nodes.map(\.state) == [.launching, .launching, .launching])
        #expect(launched.credentials.isEmpty, "without a launcher, the tokens handed out at creation stay valid")

        let added = try await broker.request(
            .POST,
            BrokerRoutes.workspaceNodes(id, workspace: "worker"),
            body: broker.json(AddNodesRequest(count: 2, launch: false))
        )
        #expect(added.status == 201)
        let addedResult = try added.decode(ActionResult.self)
        #expect(addedResult.nodes.map(\.name) == ["worker-2", "worker-3"])
        #expect(addedResult.credentials.map(\.node) == ["worker-2", "worker-3"])

        let killed = try await broker.request(.POST, BrokerRoutes.kill(id, "worker-0")).decode(ActionResult.self)
        #expect(killed.nodes.first?.state == .killed)
        let retried = try await broker.request(.POST, BrokerRoutes.retry(id, "worker-0")).decode(ActionResult.self)
        #expect(retried.nodes.first?.state == .launching)
        #expect(retried.nodes.first?.generation == 1)
        let newToken = try #require(retried.credentials.first)
        #expect(newToken.node == "worker-0" && newToken.generation == 1)
        // The old token no longer works; the new one does.
        let old = created.credentials.first { $0.node == "worker-0" }!
        #expect(try await broker.checkIn(id, old, index: 1).status == 401)
        #expect(try await broker.checkIn(id, newToken, index: 1).status == 200)

        let terminated = try await broker.request(.POST, BrokerRoutes.terminate(id)).decode(ContextSummary.self)
        #expect(terminated.status.terminated)
        let afterwards = try await broker.request(.POST, BrokerRoutes.kill(id, "head-0"))
        #expect(afterwards.status == 409)
        try await broker.stop()
    }

    @Test func `snapshot gives every context at one sequence number`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe)
        let snapshot = try await broker.request(.GET, BrokerRoutes.snapshot).decode(BrokerSnapshot.self)
        #expect(snapshot.contexts.map(\.id) == [created.context.id])
        #expect(snapshot.sequence == snapshot.contexts[0].sequence)
        #expect(snapshot.sequence > 0)
        let one = try await broker.request(.GET, BrokerRoutes.snapshot + "?context=\(created.context.id)")
        #expect(one.status == 200)
        let missing = try await broker.request(.GET, BrokerRoutes.snapshot + "?context=nope")
        #expect(missing.status == 404)
        try await broker.stop()
    }

    // MARK: Error statuses

    @Test func `400 for malformed JSON and bad query parameters`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe)
        let head = created.credentials[0]
        let malformed = try await broker.request(
            .POST,
            BrokerRoutes.checkIn(created.context.id, head.node),
            auth: .token(head.token),
            body: Data("{\"identities\": [".utf8)
        )
        #expect(malformed.status == 400)
        #expect(malformed.error?.code == "bad-request")
        let wrongShape = try await broker.request(
            .POST,
            BrokerRoutes.checkIn(created.context.id, head.node),
            auth: .token(head.token),
            body: Data("{\"ids\": []}".utf8)
        )
        #expect(wrongShape.status == 400)
        #expect(wrongShape.error?.message.contains("missing 'identities'") == true)
        let badQuery = try await broker.request(.GET, BrokerRoutes.output(created.context.id, head.node) + "?limit=lots")
        #expect(badQuery.status == 400)
        try await broker.stop()
    }

    @Test func `404 for unknown contexts, nodes, workspaces and routes`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe)
        #expect(try await broker.request(.GET, BrokerRoutes.context("nope")).error?.code == "unknown-context")
        #expect(try await broker.request(.GET, BrokerRoutes.node(created.context.id, "ghost-0")).error?.code == "unknown-node")
        let workspace = try await broker.request(
            .POST,
            BrokerRoutes.workspaceNodes(created.context.id, workspace: "ghost"),
            body: broker.json(AddNodesRequest(count: 1))
        )
        #expect(workspace.status == 404 && workspace.error?.code == "unknown-workspace")
        let route = try await broker.request(.GET, "/v1/nothing-here")
        #expect(route.status == 404)
        #expect(route.error?.code == "not-found")
        try await broker.stop()
    }

    @Test func `409 when an input does not fit the node's state`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe)
        let worker = created.credentials[1]
        _ = try await broker.checkIn(created.context.id, worker, index: 1)
        let early = try await broker.request(
            .POST,
            BrokerRoutes.report(created.context.id, worker.node),
            auth: .token(worker.token),
            body: broker.json(ResultReport(.ok))
        )
        #expect(early.status == 409)
        #expect(early.error?.message.contains("waiting") == true)
        let retry = try await broker.request(.POST, BrokerRoutes.retry(created.context.id, worker.node))
        #expect(retry.status == 409)
        try await broker.stop()
    }

    @Test func `413 for bodies over the limit`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe)
        let head = created.credentials[0]
        let huge = Data(repeating: UInt8(ascii: " "), count: 200 * 1024)
        let reply = try await broker.request(.POST, BrokerRoutes.checkIn(created.context.id, head.node), auth: .token(head.token), body: huge)
        #expect(reply.status == 413)
        #expect(reply.error?.code == "too-large")
        #expect(try await broker.request(.GET, BrokerRoutes.node(created.context.id, head.node)).decode(NodeSnapshot.self).state == .pending)
        try await broker.stop()
    }

    @Test func `422 for an identity that does not fit the node`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe)
        let head = created.credentials[0]
        let wrong = CheckInRequest(identities: [TestBroker.identity("head-0", index: 0, interface: "eth9")])
        let reply = try await broker.request(
            .POST,
            BrokerRoutes.checkIn(created.context.id, head.node),
            auth: .token(head.token),
            body: broker.json(wrong)
        )
        #expect(reply.status == 422)
        #expect(reply.error?.code == "invalid-input")
        try await broker.stop()
    }

    @Test func `503 while shutting down`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.cpe)
        await broker.server.state.shutdown()
        let reply = try await broker.checkIn(created.context.id, created.credentials[0], index: 0)
        #expect(reply.status == 503)
        #expect(reply.error?.code == "unavailable")
        try await broker.stop()
    }
}
