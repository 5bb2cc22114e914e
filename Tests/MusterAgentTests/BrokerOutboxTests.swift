import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MusterClient
import MusterCore
import Synchronization
import Testing

@testable import MusterAgent

/// A broker stand-in that is away until told otherwise, and then behaves as the broker does for one node: script
/// reports, output deduplicated by index (a gap refused with the index it expects), the final report (with its
/// tail: lines as on the output route, then script reports, then the result).
final class FlakyNodeBroker: Sendable {
    private let available = Mutex(false)
    private let count = Mutex(0)
    /// What reached the broker, in order.
    let delivered = Seen<String>()
    /// Requests that found the broker away.
    let turnedAway = Seen<String>()
    /// Every request, by route.
    let requests = Seen<String>()

    func comeBack() { available.withLock { $0 = true } }

    var router: Router<BasicRequestContext> {
        let router = Router()
        let node = "/v1/contexts/c1/nodes/n-0"
        router.post("\(node)/scripts") { request, _ in
            guard self.isAvailable("scripts") else { return Response(status: .serviceUnavailable) }
            self.record(try await request.decode(ScriptReport.self))
            return Response(status: .noContent)
        }
        router.post("\(node)/output") { request, _ in
            guard self.isAvailable("output") else { return Response(status: .serviceUnavailable) }
            guard let next = self.append(try await request.decode(OutputAppendRequest.self).lines) else {
                return try Response.refusal(.conflict, code: "output-gap", message: "gap", expected: self.count.withLock { $0 })
            }
            return try Response.json(OutputAppendResult(next: next))
        }
        router.post("\(node)/report") { request, _ in
            guard self.isAvailable("report") else { return Response(status: .serviceUnavailable) }
            let report = try await request.decode(ResultReport.self)
            guard let next = self.append(report.lines ?? []) else {
                return try Response.refusal(.conflict, code: "output-gap", message: "gap", expected: self.count.withLock { $0 })
            }
            for script in report.scripts ?? [] { self.record(script) }
            self.delivered.append(report.ok ? "report ok" : "report error \(report.code ?? 0)")
            return report.hasTail ? try Response.json(OutputAppendResult(next: next)) : Response(status: .noContent)
        }
        return router
    }

    /// Appends the lines it does not have yet; the count after them, or nil for a gap.
    private func append(_ lines: [OutputLine]) -> Int? {
        count.withLock { count in
            for line in lines where line.index >= count {
                guard line.index == count else { return nil }
                delivered.append("\(line.index) \(line.text)")
                count += 1
            }
            return count
        }
    }

    private func record(_ report: ScriptReport) {
        delivered.append(report.exitCode.map { "finished \(report.script.script) \($0)" } ?? "started \(report.script.script)")
    }

    private func isAvailable(_ route: String) -> Bool {
        requests.append(route)
        let available = available.withLock { $0 }
        if !available { turnedAway.append(route) }
        return available
    }
}

/// A connection that does not retry on its own (the outbox and the session do), and a node's client over it.
func withAgentClient<Result: Sendable>(_ url: URL, _ body: @Sendable (AgentClient) async throws -> Result) async throws -> Result {
    var logger = Logger(label: "agent-client-test")
    logger.logLevel = .critical
    let connection = try BrokerConnection(configuration: BrokerConfiguration(url: url.absoluteString, retry: .never), logger: logger)
    do {
        let result = try await body(connection.agentClient(context: "c1", node: "n-0", token: "node-token"))
        try await connection.shutdown()
        return result
    } catch {
        try? await connection.shutdown()
        throw error
    }
}

/// A logger that says nothing (the outbox's notices would clutter the test output).
let quietLogger: Logger = {
    var logger = Logger(label: "outbox-test")
    logger.logLevel = .critical
    return logger
}()

/// Short waits, for tests.
let quickRetries = RetryPolicy(maximumAttempts: nil, baseDelay: .milliseconds(10), maximumDelay: .milliseconds(50), jitter: 0)

@Suite("Broker outbox", .timeLimit(.minutes(5)))
struct BrokerOutboxTests {
    static let script = ScriptRef(phase: 2, script: "2-thishost/publicnic", arguments: ["10.0.0.7", "n-0", "n-0.c1.muster.local"])

    static func line(_ index: Int) -> OutputLine {
        OutputLine(index: index, time: Date(), phase: 2, script: script.script, stream: .stdout, text: "step \(index)")
    }

    @Test func `while the broker is away nothing waits for it, and when it is back everything arrives in order, once`() async throws {
        let broker = FlakyNodeBroker()
        try await StubBroker.run(broker.router) { url in
            try await withAgentClient(url) { client in
                let outbox = BrokerOutbox(client: client, policy: quickRetries, logger: quietLogger)
                await outbox.scriptStarted(Self.script)
                for index in 0..<5 { await outbox.output(Self.line(index)) }
                await outbox.scriptFinished(Self.script, exitCode: 0)
                #expect(await outbox.backlog == 7, "every call returned at once, with nothing delivered")
                let tried = await eventually { broker.turnedAway.all.count >= 3 }
                #expect(tried, "the outbox kept trying")
                broker.comeBack()
                #expect(await outbox.drain() == .delivered)
                #expect(
                    broker.delivered.all
                        == ["started 2-thishost/publicnic"] + (0..<5).map { "\($0) step \($0)" } + ["finished 2-thishost/publicnic 0"]
                )
                #expect(Set(broker.turnedAway.all) == ["scripts"], "nothing went out of order while the first message waited")
                #expect(await outbox.backlog == 0)
            }
        }
    }

    @Test func `a quiet run reaches the broker in one request: the final report with the lines and script reports before it`() async throws {
        let broker = FlakyNodeBroker()
        try await StubBroker.run(broker.router) { url in
            try await withAgentClient(url) { client in
                // A window no loaded machine outlasts between two of these calls (the standard 150 ms was, once):
                // the final report, not the window, sends what is queued.
                let limits = OutboxStateMachine.Limits(window: .seconds(600), batchLines: 500, batchBytes: 128 * 1024)
                let outbox = BrokerOutbox(client: client, policy: quickRetries, limits: limits, maximumBacklog: 100_000, logger: quietLogger)
                await outbox.scriptStarted(Self.script)
                for index in 0..<3 { await outbox.output(Self.line(index)) }
                await outbox.scriptFinished(Self.script, exitCode: 0)
                await outbox.report(.ok)
                // The broker is away at first: the one request is tried until it is back, and then delivers it all once.
                let tried = await eventually { broker.turnedAway.all.count >= 2 }
                #expect(tried, "the outbox kept trying")
                broker.comeBack()
                #expect(await outbox.drain() == .delivered)
                #expect(Set(broker.requests.all) == ["report"], "\(broker.requests.all)")
                #expect(
                    broker.delivered.all
                        == (0..<3).map { "\($0) step \($0)" } + ["started 2-thishost/publicnic", "finished 2-thishost/publicnic 0", "report ok"]
                )
            }
        }
    }

    @Test func `a full queue makes a chatty script wait for room, not the agent grow or drop lines`() async throws {
        let broker = FlakyNodeBroker()
        try await StubBroker.run(broker.router) { url in
            try await withAgentClient(url) { client in
                let outbox = BrokerOutbox(client: client, policy: quickRetries, maximumBacklog: 3, logger: quietLogger)
                let printed = Seen<Int>()
                let script = Task {
                    for index in 0..<4 {
                        await outbox.output(Self.line(index))
                        printed.append(index)
                    }
                }
                let tried = await eventually { broker.turnedAway.all.count >= 3 }
                #expect(tried)
                #expect(printed.all == [0, 1, 2], "the fourth line waits while the broker is away")
                broker.comeBack()
                await script.value
                #expect(await outbox.drain() == .delivered)
                #expect(broker.delivered.all == (0..<4).map { "\($0) step \($0)" })
            }
        }
    }

    @Test func `lines a script prints while a request is in flight go together in the next request`() async throws {
        let broker = FlakyNodeBroker()
        broker.comeBack()
        try await StubBroker.run(broker.router) { url in
            try await withAgentClient(url) { client in
                let outbox = BrokerOutbox(client: client, policy: quickRetries, logger: quietLogger)
                await outbox.scriptStarted(Self.script)
                for index in 0..<200 { await outbox.output(Self.line(index)) }
                await outbox.scriptFinished(Self.script, exitCode: 0)
                #expect(await outbox.drain() == .delivered)
                #expect(broker.delivered.all.count == 202)
                let batches = broker.requests.all.filter { $0 == "output" }.count
                #expect(batches < 20, "200 lines took \(batches) requests")
            }
        }
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; whether it held.
func eventually(timeout: Duration = .seconds(60), _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}
