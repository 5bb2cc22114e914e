import Foundation
import Hummingbird
import Logging
import MusterClient
import MusterCore
import NIOCore
import Testing

@Suite("Broker calls")
struct ClientCallTests {
    @Test("a successful answer is decoded with the wire format, dates included")
    func decodesSuccess() async throws {
        let router = Router()
        router.get("/v1/contexts") { _, _ in try Response.json(ContextList(contexts: [Fixture.summary])) }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                let contexts = try await connection.operatorClient(token: "op").contexts()
                #expect(contexts == [Fixture.summary])
            }
        }
    }

    @Test("operator calls carry the operator token, agent calls the node's token, health and metrics none")
    func bearerTokens() async throws {
        let seen = Recorder<String>()
        let router = Router()
        router.get("/v1/contexts") { request, _ in
            _ = seen.record("contexts \(request.header("Authorization") ?? "none")")
            return try Response.json(ContextList(contexts: []))
        }
        router.post("/v1/contexts/c1/nodes/head-0/checkin") { request, _ in
            _ = seen.record("checkin \(request.header("Authorization") ?? "none")")
            return try Response.json(Fixture.answer(released: false))
        }
        router.get("/v1/healthz") { request, _ in
            _ = seen.record("health \(request.header("Authorization") ?? "none")")
            return try Response.json(HealthStatus(status: "ok", version: "1.2.3"))
        }
        router.get("/metrics") { request, _ in
            _ = seen.record("metrics \(request.header("Authorization") ?? "none")")
            return Response.text("muster_nodes{state=\"ok\"} 3\n")
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                _ = try await connection.operatorClient(token: "operator-secret").contexts()
                _ = try await connection.agentClient(context: "c1", node: "head-0", token: "node-secret").checkIn([Fixture.identity])
                #expect(try await connection.health() == HealthStatus(status: "ok", version: "1.2.3"))
                #expect(try await connection.metrics() == "muster_nodes{state=\"ok\"} 3\n")
            }
        }
        #expect(
            seen.values == [
                "contexts Bearer operator-secret", "checkin Bearer node-secret", "health none", "metrics none",
            ]
        )
    }

    @Test("creating a context sends the XML with its name and launch flag")
    func createSendsDocument() async throws {
        let seen = Recorder<String>()
        let xml = Data("<cluster><workspace><name>head</name></workspace></cluster>".utf8)
        let router = Router()
        router.post("/v1/contexts") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            _ = seen.record(request.header("Content-Type") ?? "")
            _ = seen.record("name=\(request.query("name") ?? "-") launch=\(request.query("launch") ?? "-")")
            _ = seen.record(String(buffer: body))
            return try Response.error(.unprocessableContent, code: "bad", message: "not checked")
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                _ = try? await connection.operatorClient(token: "op").createContext(document: xml, name: "torque & co", launch: true)
            }
        }
        #expect(seen.values == ["application/xml; charset=utf-8", "name=torque & co launch=true", String(decoding: xml, as: UTF8.self)])
    }

    @Test("an invalid document comes back as invalidDocument with the broker's diagnostics")
    func invalidDocument() async throws {
        let diagnostics = [
            Diagnostic(.error, code: "unknown-role", "no workspace provides role 'torquemaster'", at: SourcePosition(line: 12, column: 7)),
            Diagnostic(.warning, code: "unused-role", "role 'spare' is never required", at: SourcePosition(line: 4, column: 3)),
        ]
        let router = Router()
        router.post("/v1/contexts") { _, _ in
            try Response.error(.unprocessableContent, code: "invalid-document", message: "the cluster document is invalid", diagnostics: diagnostics)
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                let error = try await #require(throws: BrokerClientError.self) {
                    try await connection.operatorClient(token: "op").createContext(document: Data("<cluster/>".utf8))
                }
                #expect(error.code == .invalidDocument)
                #expect(error.status == 422)
                #expect(error.brokerCode == "invalid-document")
                #expect(error.brokerMessage == "the cluster document is invalid")
                #expect(error.diagnostics == diagnostics)
                #expect(error.message.contains("the cluster document is invalid"))
            }
        }
    }

    @Test(
        "each error status maps to its code and keeps the broker's code and message",
        arguments: [
            (400, "bad-request", BrokerClientError.Code.badRequest),
            (401, "unauthorized", .unauthorized),
            (403, "forbidden", .forbidden),
            (404, "unknown-context", .notFound),
            (409, "not-retryable", .conflict),
            (413, "too-large", .tooLarge),
            (422, "invalid-document", .invalidDocument),
            (422, "invalid-input", .invalidInput),
            (500, "internal", .serverError),
            (503, "shutting-down", .unavailable),
        ]
    )
    func errorStatuses(status: Int, brokerCode: String, code: BrokerClientError.Code) async throws {
        let router = Router()
        router.get("/v1/contexts/c1") { _, _ in
            try Response.error(HTTPResponse.Status(code: status), code: brokerCode, message: "the broker says \(brokerCode)")
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port, retry: .never) { connection, _ in
                let error = try await #require(throws: BrokerClientError.self) {
                    try await connection.operatorClient(token: "op").context("c1")
                }
                #expect(error.code == code)
                #expect(error.status == status)
                #expect(error.brokerCode == brokerCode)
                #expect(error.brokerMessage == "the broker says \(brokerCode)")
                #expect(error.request == "GET /v1/contexts/c1")
                #expect(error.message.contains("the broker says \(brokerCode)"))
                #expect(error.message.contains("\(status)"))
            }
        }
    }

    @Test("an error without the broker's JSON body (from a proxy) still maps by status")
    func errorWithoutBody() async throws {
        let router = Router()
        router.get("/v1/contexts") { _, _ in Response.text("<html>Bad Gateway</html>", status: .badGateway) }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port, retry: .never) { connection, _ in
                let error = try await #require(throws: BrokerClientError.self) { try await connection.operatorClient(token: "op").contexts() }
                #expect(error.code == .unavailable)
                #expect(error.status == 502)
                #expect(error.brokerCode == nil)
                #expect(error.isTransient)
            }
        }
    }

    @Test("a body the client cannot read is a decoding error")
    func decodingError() async throws {
        let router = Router()
        router.get("/v1/contexts") { _, _ in Response.text("{\"contexts\": 3}") }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                let error = try await #require(throws: BrokerClientError.self) { try await connection.operatorClient(token: "op").contexts() }
                #expect(error.code == .decoding)
                #expect(error.status == 200)
            }
        }
    }

    @Test("a redirect is not followed, so the token never goes elsewhere")
    func redirectNotFollowed() async throws {
        let hits = Recorder<String>()
        let router = Router()
        router.get("/v1/contexts") { _, _ in Response(status: .temporaryRedirect, headers: [.location: "/elsewhere"]) }
        router.get("/elsewhere") { request, _ in
            _ = hits.record(request.header("Authorization") ?? "none")
            return try Response.json(ContextList(contexts: []))
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                let error = try await #require(throws: BrokerClientError.self) { try await connection.operatorClient(token: "op").contexts() }
                #expect(error.code == .unexpectedStatus)
                #expect(error.status == 307)
            }
        }
        #expect(hits.count == 0)
    }

    @Test("a read is retried on 503 with exponential backoff, and succeeds")
    func idempotentRetry() async throws {
        let hits = Recorder<Int>()
        let router = Router()
        router.get("/v1/contexts") { _, _ in
            hits.record(0) <= 2
                ? try Response.error(.serviceUnavailable, code: "starting", message: "the broker is starting")
                : try Response.json(ContextList(contexts: [Fixture.summary]))
        }
        try await TestBroker.run(router) { port in
            try await withConnection(
                port: port,
                retry: RetryPolicy(maximumAttempts: 4, baseDelay: .milliseconds(100), maximumDelay: .seconds(1), jitter: 0)
            ) {
                connection,
                sleeper in
                let contexts = try await connection.operatorClient(token: "op").contexts()
                #expect(contexts == [Fixture.summary])
                #expect(sleeper.delays == [.milliseconds(100), .milliseconds(200)])
            }
        }
        #expect(hits.count == 3)
    }

    @Test("a read that keeps failing gives up after the policy's attempts, with the last error")
    func retriesRunOut() async throws {
        let hits = Recorder<Int>()
        let router = Router()
        router.get("/v1/snapshot") { _, _ in
            _ = hits.record(0)
            return try Response.error(.gatewayTimeout, code: "busy", message: "try later")
        }
        try await TestBroker.run(router) { port in
            try await withConnection(
                port: port,
                retry: RetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(50), maximumDelay: .milliseconds(80), jitter: 0)
            ) {
                connection,
                sleeper in
                let error = try await #require(throws: BrokerClientError.self) { try await connection.operatorClient(token: "op").snapshot() }
                #expect(error.code == .unavailable)
                #expect(sleeper.delays == [.milliseconds(50), .milliseconds(80)])
            }
        }
        #expect(hits.count == 3)
    }

    @Test("agent calls are retried on 503: the broker deduplicates them")
    func agentCallsRetry() async throws {
        let hits = Recorder<Int>()
        let router = Router()
        router.post("/v1/contexts/c1/nodes/head-0/scripts") { _, _ in
            hits.record(0) == 1 ? try Response.error(.serviceUnavailable, code: "busy", message: "busy") : Response(status: .noContent)
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, sleeper in
                try await connection.agentClient(context: "c1", node: "head-0", token: "n").scriptStarted(
                    ScriptRef(phase: 1, script: "1-ipandhost/head")
                )
                #expect(sleeper.delays.count == 1)
            }
        }
        #expect(hits.count == 2)
    }

    @Test("operator actions are never retried once they reached the broker", arguments: ["kill", "retry", "launch", "terminate", "create", "add"])
    func actionsNotRetried(action: String) async throws {
        let hits = Recorder<String>()
        let router = Router()
        for path in [
            "/v1/contexts/c1/nodes/web-0/kill", "/v1/contexts/c1/nodes/web-0/retry", "/v1/contexts/c1/launch", "/v1/contexts/c1/terminate",
            "/v1/contexts", "/v1/contexts/c1/workspaces/web/nodes",
        ] {
            router.post(RouterPath(path)) { _, _ in
                _ = hits.record(path)
                return try Response.error(.serviceUnavailable, code: "busy", message: "busy")
            }
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, sleeper in
                let client = connection.operatorClient(token: "op")
                let error = try await #require(throws: BrokerClientError.self) {
                    switch action {
                    case "kill": _ = try await client.kill("web-0", in: "c1")
                    case "retry": _ = try await client.retry("web-0", in: "c1")
                    case "launch": _ = try await client.launch("c1")
                    case "terminate": _ = try await client.terminate("c1")
                    case "create": _ = try await client.createContext(document: Data("<cluster/>".utf8))
                    default: _ = try await client.addNodes(2, to: "web", in: "c1")
                    }
                }
                #expect(error.code == .unavailable)
                #expect(sleeper.delays.isEmpty)
            }
        }
        #expect(hits.count == 1)
    }

    @Test("an operator action is retried when the connection was refused, then fails with an actionable message")
    func refusedActionRetried() async throws {
        try await TestBroker.withClosedPort { port in
            try await withConnection(port: port) { connection, sleeper in
                let error = try await #require(throws: BrokerClientError.self) {
                    try await connection.operatorClient(token: "op").kill("web-0", in: "c1")
                }
                #expect(error.code == .cannotConnect)
                #expect(error.isTransient)
                #expect(error.message.contains("cannot reach the broker at http://127.0.0.1:\(port): connection refused"))
                #expect(error.message.contains("muster broker"))
                #expect(sleeper.delays == [.milliseconds(100), .milliseconds(200)])
            }
        }
    }

    @Test("an output append returns the next index, or the gap to resend from on 409")
    func outputAppend() async throws {
        let seen = Recorder<Int>()
        let router = Router()
        router.post("/v1/contexts/c1/nodes/head-0/output") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let lines = try WireFormat.decoder().decode(OutputAppendRequest.self, from: Data(body.readableBytesView)).lines
            _ = seen.record(lines.count)
            guard lines.first?.index == 0 else {
                return try Response.error(.conflict, code: "output-gap", message: "expected line 2", expected: 2)
            }
            return try Response.json(OutputAppendResult(next: lines.count))
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, sleeper in
                let agent = connection.agentClient(context: "c1", node: "head-0", token: "n")
                #expect(try await agent.appendOutput([Fixture.line(0), Fixture.line(1)]) == .appended(next: 2))
                let gap = try await agent.appendOutput([Fixture.line(5)])
                #expect(gap == .gap(expected: 2))
                #expect(gap.next == 2)
                #expect(sleeper.delays.isEmpty)
            }
        }
        #expect(seen.values == [2, 1])
    }

    @Test("a plain 409 (not an output gap) is a conflict error")
    func plainConflict() async throws {
        let router = Router()
        router.post("/v1/contexts/c1/nodes/head-0/report") { _, _ in
            try Response.error(.conflict, code: "already-reported", message: "head-0 already reported")
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                let error = try await #require(throws: BrokerClientError.self) {
                    try await connection.agentClient(context: "c1", node: "head-0", token: "n").report(.error(code: 4, message: "script failed"))
                }
                #expect(error.code == .conflict)
                #expect(error.brokerCode == "already-reported")
            }
        }
    }

    @Test("the long-poll waits as long as the broker holds it, past the ordinary request timeout")
    func longPollWaits() async throws {
        let seen = Recorder<String>()
        let hold = Duration.milliseconds(900)
        let router = Router()
        router.get("/v1/contexts/c1/nodes/head-0/answer") { request, _ in
            _ = seen.record("after=\(request.query("after") ?? "-") wait=\(request.query("wait") ?? "-")")
            try await Task.sleep(for: hold)  // the broker holding the request until the answer exists
            return try Response.json(Fixture.answer(released: true, version: 3))
        }
        try await TestBroker.run(router) { port in
            // The hold (0.9 s) is past the ordinary request limit (300 ms); the long-poll's own margin is generous,
            // so that a machine busy with the other suites does not fail it for being slow.
            let timeouts = BrokerConfiguration.Timeouts(connect: .seconds(30), request: .milliseconds(300), longPollMargin: .seconds(30))
            try await withConnection(port: port, retry: .never, timeouts: timeouts) { connection, _ in
                let agent = connection.agentClient(context: "c1", node: "head-0", token: "n")
                let start = ContinuousClock.now
                let response = try await agent.answer(after: 2, wait: .seconds(1))
                #expect(ContinuousClock.now - start >= hold)
                #expect(response.released)
                #expect(response.answer?.version == 3)
            }
        }
        #expect(seen.values == ["after=2 wait=1"])
    }

    @Test("a check-in with a wait asks the broker to hold it, and waits past the ordinary request timeout")
    func checkInWaits() async throws {
        let seen = Recorder<String>()
        let hold = Duration.milliseconds(900)
        let router = Router()
        router.post("/v1/contexts/c1/nodes/head-0/checkin") { request, _ in
            _ = seen.record("wait=\(request.query("wait") ?? "-")")
            if request.query("wait") != nil { try await Task.sleep(for: hold) }  // held until the node is released
            return try Response.json(Fixture.answer(released: request.query("wait") != nil, version: 1))
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                let agent = connection.agentClient(context: "c1", node: "head-0", token: "n")
                let response = try await agent.checkIn([Fixture.identity])
                #expect(!response.released, "without a wait, the broker answers at once")
            }
            let timeouts = BrokerConfiguration.Timeouts(connect: .seconds(30), request: .milliseconds(300), longPollMargin: .seconds(30))
            try await withConnection(port: port, retry: .never, timeouts: timeouts) { connection, _ in
                let agent = connection.agentClient(context: "c1", node: "head-0", token: "n")
                let start = ContinuousClock.now
                let response = try await agent.checkIn([Fixture.identity], wait: .milliseconds(1_500))
                #expect(ContinuousClock.now - start >= hold)
                #expect(response.released && response.answer?.version == 1)
            }
        }
        #expect(seen.values == ["wait=-", "wait=2"])
    }

    @Test("a report with its tail returns the broker's line count, the gap to resend from, or nil from a broker that predates tails")
    func reportWithTail() async throws {
        let seen = Recorder<String>()
        let router = Router()
        router.post("/v1/contexts/c1/nodes/head-0/report") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let report = try WireFormat.decoder().decode(ResultReport.self, from: Data(body.readableBytesView))
            let lines = report.lines ?? []
            _ = seen.record("\(report.ok) lines \(lines.map(\.index)) scripts \(report.scripts?.count ?? 0)")
            if lines.first?.index == 7 { return Response(status: .noContent) }  // a broker that predates tails
            guard lines.isEmpty || lines.first?.index == 0 else {
                return try Response.error(.conflict, code: "output-gap", message: "expected line 0", expected: 0)
            }
            return report.hasTail ? try Response.json(OutputAppendResult(next: lines.count)) : Response(status: .noContent)
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, sleeper in
                let agent = connection.agentClient(context: "c1", node: "head-0", token: "n")
                let script = ScriptReport(script: ScriptRef(phase: 2, script: "2-thishost/publicnic"), exitCode: 0)
                let applied = try await agent.report(.ok, lines: [Fixture.line(0), Fixture.line(1)], scripts: [script])
                let gap = try await agent.report(.ok, lines: [Fixture.line(3)])
                let older = try await agent.report(.ok, lines: [Fixture.line(7)])
                let plain = try await agent.report(.ok)
                #expect(applied == ReportOutcome.applied(next: 2))
                #expect(gap == ReportOutcome.gap(expected: 0))
                #expect(older == ReportOutcome.applied(next: nil), "a broker that predates tails")
                #expect(plain == ReportOutcome.applied(next: nil))
                #expect(sleeper.delays.isEmpty)
            }
        }
        #expect(seen.values == ["true lines [0, 1] scripts 1", "true lines [3] scripts 0", "true lines [7] scripts 0", "true lines [] scripts 0"])
    }

    @Test("an ordinary call that gets no answer in time fails as timedOut")
    func ordinaryCallTimesOut() async throws {
        let router = Router()
        router.get("/v1/contexts") { _, _ in
            try await Task.sleep(for: .seconds(5))
            return try Response.json(ContextList(contexts: []))
        }
        try await TestBroker.run(router) { port in
            let timeouts = BrokerConfiguration.Timeouts(connect: .seconds(2), request: .milliseconds(200))
            try await withConnection(port: port, retry: .never, timeouts: timeouts) { connection, _ in
                let error = try await #require(throws: BrokerClientError.self) { try await connection.operatorClient(token: "op").contexts() }
                #expect(error.code == .timedOut)
            }
        }
    }

    @Test("waitForAnswer asks again until the node is released with a newer answer")
    func waitForAnswerLoops() async throws {
        let hits = Recorder<Int>()
        let router = Router()
        router.get("/v1/contexts/c1/nodes/head-0/answer") { _, _ in
            try Response.json(Fixture.answer(released: hits.record(0) >= 3, version: 2))
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                let response = try await connection.agentClient(context: "c1", node: "head-0", token: "n").waitForAnswer(after: 1, wait: .seconds(1))
                #expect(response.answer?.version == 2)
            }
        }
        #expect(hits.count == 3)
    }

    @Test func `waitForAnswer returns as soon as the node's life on the broker ended, instead of asking again for ever`() async throws {
        let hits = Recorder<Int>()
        let router = Router()
        router.get("/v1/contexts/c1/nodes/head-0/answer") { _, _ in
            let hit = hits.record(0)
            return try Response.json(AnswerResponse(released: false, state: .waiting, requirements: [], answer: nil, terminated: hit >= 2))
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                let response = try await connection.agentClient(context: "c1", node: "head-0", token: "n").waitForAnswer(after: 0, wait: .seconds(1))
                #expect(response.isFinal)
                #expect(response.answer == nil)
            }
        }
        #expect(hits.count == 2)
    }

    @Test("calls after shutdown fail with shutDown")
    func afterShutdown() async throws {
        try await TestBroker.withClosedPort { port in
            try await withConnection(port: port) { connection, _ in
                try await connection.shutdown()
                let error = try await #require(throws: BrokerClientError.self) { try await connection.health() }
                #expect(error.code == .shutDown)
            }
        }
    }
}

@Suite("Broker configuration")
struct BrokerConfigurationTests {
    @Test(
        "addresses are normalized",
        arguments: [
            ("127.0.0.1:7077", "http://127.0.0.1:7077"),
            ("http://localhost:7077/", "http://localhost:7077"),
            ("https://broker.example:8443/muster", "https://broker.example:8443/muster"),
            (" http://[::1]:7077 ", "http://[::1]:7077"),
        ]
    )
    func normalizes(input: String, expected: String) throws {
        #expect(try BrokerConfiguration(url: input).baseURL == expected)
    }

    @Test("malformed addresses are refused with a helpful message", arguments: ["ftp://host:21", "http://", "http://host:1/?a=b", ""])
    func refuses(input: String) {
        #expect {
            try BrokerConfiguration(url: input)
        } throws: { error in
            (error as? BrokerClientError)?.code == .invalidConfiguration
        }
    }

    @Test("an unreadable CA certificate file is a configuration error, reported at once")
    func unreadableCAFile() throws {
        var configuration = try BrokerConfiguration(url: "https://127.0.0.1:7077")
        configuration.tls.caCertificateFile = "/nonexistent/muster-ca.pem"
        #expect {
            _ = try BrokerConnection(configuration: configuration, logger: .init(label: "test"))
        } throws: { error in
            (error as? BrokerClientError)?.code == .invalidConfiguration
        }
    }

    @Test("backoff doubles from the base delay up to the maximum, less the jitter share")
    func backoff() {
        let policy = RetryPolicy(maximumAttempts: 5, baseDelay: .milliseconds(100), maximumDelay: .milliseconds(500), jitter: 0.5)
        #expect((1...5).map { policy.delay(beforeRetry: $0, unitRandom: 0) } == [100, 200, 400, 500, 500].map { Duration.milliseconds($0) })
        #expect(policy.delay(beforeRetry: 2, unitRandom: 1) == .milliseconds(100))
        #expect(policy.delay(beforeRetry: 1000, unitRandom: 0) == .milliseconds(500))
        for _ in 0..<100 {
            let delay = policy.delay(beforeRetry: 3)
            #expect(delay >= .milliseconds(200) && delay <= .milliseconds(400))
        }
        #expect(policy.allowsAnotherAttempt(after: 4))
        #expect(!policy.allowsAnotherAttempt(after: 5))
        #expect(!RetryPolicy.never.allowsAnotherAttempt(after: 1))
        #expect(RetryPolicy.streams.allowsAnotherAttempt(after: 1_000_000))
    }
}
