import Foundation
import Logging
import MusterCore
import NIOHTTP1
import Testing

@testable import MusterAgent
@testable import MusterBroker

/// Fewer round trips per agent: the check-in is the first long-poll, and the final report carries the last output
/// lines and script reports, so that a quiet node's whole life on the broker is two requests.
@Suite("Agent round trips", .timeLimit(.minutes(2)))
struct AgentRoundTripTests {
    /// A head that provides a role, and a worker that requires it (no data: an agent with no `3-data` folder runs it).
    static let pair = """
        <cluster xmlns="http://www.globus.org/2008/06/workspace/metadata/logistics">
          <workspace><name>head</name><image>h</image><quantity>1</quantity><nic>public</nic>
            <ctx><provides><identity/><role>head</role></provides></ctx></workspace>
          <workspace><name>worker</name><image>w</image><quantity>1</quantity><nic>public</nic>
            <ctx><provides><identity/></provides><requires><role name="head" hostname="true" pubkey="true"/></requires></ctx></workspace>
        </cluster>
        """

    static let script = ScriptRef(phase: 2, script: "2-thishost/publicnic", arguments: ["127.0.1.1", "head-0", "head-0.test.muster.local"])

    static func lines(_ range: ClosedRange<Int>) -> [OutputLine] {
        range.map { OutputLine(index: $0, time: Date(), phase: 2, script: script.script, stream: .stdout, text: "line \($0)") }
    }

    /// A check-in with `wait` seconds.
    static func checkIn(
        _ broker: TestBroker,
        _ context: ContextID,
        _ credential: NodeCredential,
        index: Int,
        wait: Int
    ) async throws
        -> TestBroker.Reply
    {
        try await broker.request(
            .POST,
            BrokerRoutes.checkIn(context, credential.node) + "?wait=\(wait)",
            auth: .token(credential.token),
            body: try broker.json(CheckInRequest(identities: [TestBroker.identity(credential.node, index: index)]))
        )
    }

    static func report(
        _ broker: TestBroker,
        _ context: ContextID,
        _ credential: NodeCredential,
        _ report: ResultReport
    ) async throws
        -> TestBroker.Reply
    {
        try await broker.request(.POST, BrokerRoutes.report(context, credential.node), auth: .token(credential.token), body: try broker.json(report))
    }

    static func node(_ broker: TestBroker, _ context: ContextID, _ name: String) async throws -> NodeSnapshot {
        try await broker.request(.GET, BrokerRoutes.node(context, name)).decode(NodeSnapshot.self)
    }

    static func output(_ broker: TestBroker, _ context: ContextID, _ name: String) async throws -> [String] {
        try await broker.request(.GET, BrokerRoutes.output(context, name) + "?from=0&limit=100").decode(OutputPage.self).lines.map(\.text)
    }

    /// A sample of `/metrics`: the value of the first line that starts with `name{` (or is `name`) and contains
    /// every one of `labels`; 0 when there is none.
    static func metric(_ broker: TestBroker, _ name: String, _ labels: [String] = []) async throws -> Double {
        let text = try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text
        let line = text.split(separator: "\n").first { line in
            (line.hasPrefix(name + "{") || line.hasPrefix(name + " ")) && labels.allSatisfy { line.contains($0) }
        }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
    }

    /// How many requests the broker has answered on the agent route ending in `suffix` (`checkin`, `answer`, …),
    /// with `method` (the operator's `GET …/output` is not the agent's `POST …/output`).
    static func requests(_ broker: TestBroker, _ suffix: String, method: String = "POST") async throws -> Int {
        let text = try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text
        return text.split(separator: "\n")
            .filter { $0.hasPrefix("muster_http_requests_total{") && $0.contains("method=\"\(method)\"") }
            .filter { $0.contains("/nodes/") && $0.contains("/\(suffix)\"") }
            .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
            .reduce(0, +)
    }

    // MARK: The check-in as the first long-poll

    @Test func `a check-in with a wait is held until the provider checks in, then carries the answer`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.pair)
        let id = created.context.id
        let head = created.credentials[0]
        let worker = created.credentials[1]
        let clock = ContinuousClock()
        let start = clock.now
        let held = Task { try await Self.checkIn(broker, id, worker, index: 1, wait: 30) }
        // The worker is registered and its check-in is held as a long-poll.
        try await waitUntil { try await Self.metric(broker, "muster_waiting_long_polls") == 1 }
        #expect(try await Self.node(broker, id, "worker-0").state == .waiting)

        let headIn = try await broker.checkIn(id, head, index: 0).decode(AnswerResponse.self)
        #expect(headIn.released)
        let reply = try await held.value
        #expect(reply.status == 200)
        let answer = try reply.decode(AnswerResponse.self)
        #expect(answer.released && answer.state == .configuring)
        #expect(answer.answer?.roles.first?.providers.map(\.node) == ["head-0"])
        #expect(clock.now - start < .seconds(20), "answered when released, not when its wait ended")
        try await broker.stop()
    }

    @Test func `a check-in of a node that is already released returns at once, whatever its wait`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.pair)
        let id = created.context.id
        let clock = ContinuousClock()
        let start = clock.now
        let head = try await Self.checkIn(broker, id, created.credentials[0], index: 0, wait: 30).decode(AnswerResponse.self)
        let worker = try await Self.checkIn(broker, id, created.credentials[1], index: 1, wait: 30).decode(AnswerResponse.self)
        #expect(head.released && head.answer != nil)
        #expect(worker.released && worker.answer?.roles.first?.providers.map(\.node) == ["head-0"])
        // Had either been held, it would have waited its 30 s (a busy test run can make two requests take seconds).
        #expect(clock.now - start < .seconds(30), "neither waited for its 30 s")
        try await broker.stop()
    }

    @Test func `a check-in's wait is the broker's long-poll at most, and ends with the node still waiting`() async throws {
        let broker = try await TestBroker.start(longPollSeconds: 1)
        let created = try await broker.create(Self.pair)
        let reply = try await Self.checkIn(broker, created.context.id, created.credentials[1], index: 1, wait: 60)
        let answer = try reply.decode(AnswerResponse.self)
        #expect(reply.status == 200)
        #expect(!answer.released && answer.state == .waiting && answer.answer == nil)
        try await broker.stop()
    }

    // MARK: The report with the tail of the output

    @Test func `a report carries the last output lines and script reports, applied once even when it is sent again`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.pair)
        let id = created.context.id
        let head = created.credentials[0]
        _ = try await broker.checkIn(id, head, index: 0)
        let report = ResultReport(
            .ok,
            lines: Self.lines(0...2),
            scripts: [ScriptReport(script: Self.script), ScriptReport(script: Self.script, exitCode: 0)]
        )
        let first = try await Self.report(broker, id, head, report)
        #expect(first.status == 200)
        #expect(try first.decode(OutputAppendResult.self).next == 3)
        // The reply was lost, say: the agent sends the same report again.
        let again = try await Self.report(broker, id, head, report)
        #expect(again.status == 200)
        #expect(try again.decode(OutputAppendResult.self).next == 3)

        #expect(try await Self.output(broker, id, "head-0") == ["line 0", "line 1", "line 2"])
        let node = try await Self.node(broker, id, "head-0")
        #expect(node.state == .ok)
        #expect(node.timeline.map(\.script) == [Self.script], "one run of the script, not two")
        #expect(node.timeline.first?.exitCode == 0)
        try await broker.stop()
    }

    /// How many commits the broker's store made (`/metrics`).
    static func commits(_ broker: TestBroker) async throws -> Int {
        let metrics = try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text
        let line = metrics.split(separator: "\n").first {
            $0.hasPrefix("muster_store_operation_duration_seconds_count{") && $0.contains("operation=\"commit\"")
        }
        return try #require(line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }.map { Int($0) }, "\(metrics)")
    }

    @Test func `a report with its output lines and script reports is one commit`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.pair)
        let id = created.context.id
        let head = created.credentials[0]
        _ = try await broker.checkIn(id, head, index: 0)
        let before = try await Self.commits(broker)
        let report = ResultReport(
            .ok,
            lines: Self.lines(0...4),
            scripts: [ScriptReport(script: Self.script), ScriptReport(script: Self.script, exitCode: 0)]
        )
        #expect(try await Self.report(broker, id, head, report).status == 200)
        #expect(try await Self.commits(broker) == before + 1)
        #expect(try await Self.output(broker, id, "head-0") == (0...4).map { "line \($0)" })
        #expect(try await Self.node(broker, id, "head-0").timeline.first?.exitCode == 0)
        try await broker.stop()
    }

    @Test func `a result the broker refuses still leaves the report's output lines, which explain it`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.pair)
        let id = created.context.id
        let head = created.credentials[0]
        _ = try await broker.checkIn(id, head, index: 0)
        // The node's deadline passed meanwhile: it timed out, and its agent's ok comes too late.
        _ = try await broker.server.state.perform([.timeOut(context: id, node: "head-0", message: "deadline")])
        let late = try await Self.report(broker, id, head, ResultReport(.ok, lines: Self.lines(0...1), scripts: [ScriptReport(script: Self.script)]))
        #expect(late.status == 409, "\(late.text)")
        #expect(try await Self.output(broker, id, "head-0") == ["line 0", "line 1"])
        let node = try await Self.node(broker, id, "head-0")
        #expect(node.state == .timedOut)
        #expect(node.timeline.isEmpty, "nothing of the refused report but its lines was applied")
        try await broker.stop()
    }

    @Test func `a report whose lines leave a gap is refused whole, with the index the broker expects`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.pair)
        let id = created.context.id
        let head = created.credentials[0]
        _ = try await broker.checkIn(id, head, index: 0)
        let earlier = try await broker.request(
            .POST,
            BrokerRoutes.output(id, "head-0"),
            auth: .token(head.token),
            body: try broker.json(OutputAppendRequest(lines: Self.lines(0...1)))
        )
        #expect(try earlier.decode(OutputAppendResult.self).next == 2)

        let gap = try await Self.report(broker, id, head, ResultReport(.error(code: 4, message: "failed"), lines: Self.lines(5...6)))
        #expect(gap.status == 409)
        #expect(gap.error?.code == "output-gap")
        #expect(gap.error?.expected == 2)
        #expect(try await Self.node(broker, id, "head-0").state == .configuring, "nothing of the refused report was applied")

        let renumbered = try await Self.report(broker, id, head, ResultReport(.error(code: 4, message: "failed"), lines: Self.lines(2...3)))
        #expect(try renumbered.decode(OutputAppendResult.self).next == 4)
        #expect(try await Self.output(broker, id, "head-0") == (0...3).map { "line \($0)" })
        let node = try await Self.node(broker, id, "head-0")
        #expect(node.state == .failed && node.exitCode == 4)
        try await broker.stop()
    }

    @Test func `a report without lines or scripts is answered 204, as before`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.pair)
        let head = created.credentials[0]
        _ = try await broker.checkIn(created.context.id, head, index: 0)
        let reply = try await Self.report(broker, created.context.id, head, ResultReport(.ok))
        #expect(reply.status == 204)
        #expect(try await Self.node(broker, created.context.id, "head-0").state == .ok)
        try await broker.stop()
    }

    // MARK: A real agent

    @Test func `a quiet agent's whole life on the broker is two requests: a held check-in, then the report with its output`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(Self.pair)
        let id = created.context.id
        let head = created.credentials[0]
        let worker = created.credentials[1]
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("muster-roundtrip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("ctx-scripts"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        var logger = Logger(label: "roundtrip-agent")
        logger.logLevel = .critical
        let bootstrap = AgentBootstrap(
            broker: broker.url,
            context: id,
            node: worker.node,
            token: worker.token,
            layout: NodeLayout(root: root),
            nics: [.init(label: "publicnic", ip: "127.0.1.2", hostname: "worker-0.test.muster.local")]
        )
        // A window long enough that a slow machine cannot split the quiet path: the final report ends it anyway.
        let agent = Task { await AgentSession(bootstrap: bootstrap, logger: logger, outboxWindow: .seconds(30)).run() }

        // The agent's check-in is held until the head checks in.
        try await waitUntil { try await Self.metric(broker, "muster_waiting_long_polls") == 1 }
        #expect(try await Self.node(broker, id, "worker-0").state == .waiting)
        _ = try await broker.checkIn(id, head, index: 0)
        try await waitUntil { try await Self.requests(broker, "report") == 1 }
        let node = try await Self.node(broker, id, "worker-0")
        #expect(node.state == .ok)
        #expect(node.timeline.count == 1, "the built-in host-files step, told in the report: \(node.timeline)")
        #expect(try await Self.output(broker, id, "worker-0").contains { $0.hasPrefix("writing etc/hosts") })

        // Two requests from the agent: its check-in (one of the two counted here is the test's, for the head) and
        // its report; no separate long-poll, output or script report.
        #expect(try await Self.requests(broker, "checkin") == 2)
        #expect(try await Self.requests(broker, "report") == 1)
        #expect(try await Self.requests(broker, "answer", method: "GET") == 0)
        #expect(try await Self.requests(broker, "output") == 0)
        #expect(try await Self.requests(broker, "scripts") == 0)
        agent.cancel()
        #expect(await agent.value == 0)
        try await broker.stop()
    }
}
