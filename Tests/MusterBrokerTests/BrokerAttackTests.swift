import Foundation
import MusterCore
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

@testable import MusterBroker

/// Requests a hostile client sends, each answered with the exact refusal, and the broker still alive after.
@Suite("Attacks on the broker")
struct BrokerAttackTests {
    /// Integer values no handler may trap on.
    static let extremes = [
        "9223372036854775808", "18446744073709551615", "9223372036854775807", "-1", "-9223372036854775809", "1e3", "0x10", "abc", "", " 1",
    ]

    @Test(arguments: ["9223372036854775808", "18446744073709551615", "-1", "garbage", "1.5", "99999999999999999999999"])
    func `an event stream's Last-Event-ID out of range is 400 and the broker lives`(value: String) async throws {
        let broker = try await TestBroker.start()
        let reply = try await broker.status(.GET, BrokerRoutes.events, headers: [("Last-Event-ID", value)])
        #expect(reply.status == 400)
        #expect(String(decoding: reply.body ?? Data(), as: UTF8.self).contains("Last-Event-ID"))
        #expect(await broker.isHealthy())
        try await broker.stop()
    }

    @Test func `an output stream resuming after Int.max does not overflow`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(BrokerAPITests.cpe)
        let path = BrokerRoutes.outputStream(created.context.id, "head-0")
        let top = try await broker.status(.GET, path, headers: [("Last-Event-ID", String(Int.max))])
        #expect(top.status == 200)
        let over = try await broker.status(.GET, path, headers: [("Last-Event-ID", "9223372036854775808")])
        #expect(over.status == 400)
        #expect(await broker.isHealthy())
        try await broker.stop()
    }

    @Test func `every integer query parameter on every route, at every extreme, is refused or clamped`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(BrokerAPITests.cpe)
        let node = try #require(created.credentials.first { $0.node == "head-0" })
        let routes = RouteAuthenticationTests.routes(of: broker, agentDownload: nil)
        for route in routes {
            // DELETE forgets its context: it gets one of its own, so that the other routes keep theirs.
            let target = route.method == "DELETE" ? try await broker.create(BrokerAPITests.cpe).context.id : created.context.id
            let base = RouteAuthenticationTests.concrete(route.path, context: target, node: node.node)
                .replacingOccurrences(of: "?wait=0", with: "")
            // Agent routes take the node's token, the others the operator's (a refused token would test nothing).
            let agent =
                ["checkin", "answer", "scripts", "report"].contains(route.path.split(separator: "/").last.map(String.init) ?? "")
                || (route.method == "POST" && route.path.hasSuffix("/output"))
            let auth: TestBroker.Auth = agent ? .token(node.token) : .operatorToken
            for name in ["after", "from", "limit", "wait"] {
                for value in Self.extremes {
                    let escaped = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
                    // Long-polls are held at most `wait` seconds: keep them short by also sending wait=0 first.
                    let query = name == "wait" ? "?\(name)=\(escaped)" : "?wait=0&\(name)=\(escaped)"
                    let reply = try await broker.status(HTTPMethod(rawValue: route.method), base + query, auth: auth)
                    #expect(reply.status < 500, "\(route.method) \(route.path) \(name)=\(value): \(reply.status)")
                }
            }
            let header = try await broker.status(
                HTTPMethod(rawValue: route.method),
                base + "?wait=0",
                auth: auth,
                headers: [("Last-Event-ID", "18446744073709551615")]
            )
            #expect(header.status < 500, "\(route.method) \(route.path) with a huge Last-Event-ID: \(header.status)")
        }
        let wait = try await broker.status(
            .GET,
            BrokerRoutes.answer(created.context.id, node.node) + "?wait=9223372036854775807",
            auth: .token(node.token)
        )
        #expect(wait.status == 200, "an enormous wait is clamped to the long-poll limit")
        let after = try await broker.status(.GET, BrokerRoutes.events + "?after=9223372036854775808")
        #expect(after.status == 400)
        let limit = try await broker.status(.GET, BrokerRoutes.output(created.context.id, node.node) + "?limit=0")
        #expect(limit.status == 400)
        #expect(await broker.isHealthy())
        try await broker.stop()
    }

    /// `<cluster>` with `count` unknown `<x/>` elements on one line (about 4 bytes each).
    static func flatDocument(_ count: Int) -> [UInt8] {
        Array(("<cluster>" + String(repeating: "<x/>", count: count) + "</cluster>").utf8)
    }

    @Test func `a 100,000-element one-line document is refused with capped diagnostics, and other requests are answered while it is parsed`()
        async throws
    {
        let broker = try await TestBroker.start()
        let document = Self.flatDocument(100_000)
        #expect(document.count > 400_000)
        let done = Mutex(false)
        let create = Task {
            defer { done.withLock { $0 = true } }
            return try await broker.request(.POST, BrokerRoutes.contexts, body: Data(document))
        }
        // Requests that need the state actor (the list) and the health check, one after another while the
        // create runs: parsing off the actor lets them through. Only answers that arrive before the create's
        // count. (Alone, several pairs are answered; on a machine busy with the other suites, one.)
        var answered = 0
        while !done.withLock({ $0 }) {
            let list = try await broker.request(.GET, BrokerRoutes.contexts, timeout: .seconds(60))
            #expect(list.status == 200)
            #expect(await broker.isHealthy())
            if !done.withLock({ $0 }) { answered += 1 }
        }
        let reply = try await create.value
        #expect(answered >= 1, "\(answered) requests answered while the document was read")
        #expect(reply.status == 422)
        #expect(reply.error?.code == "invalid-document")
        let diagnostics = reply.error?.diagnostics ?? []
        #expect(diagnostics.filter { $0.severity == .error }.count == ClusterDocumentParser.diagnosticLimit)
        #expect(diagnostics.count <= 2 * ClusterDocumentParser.diagnosticLimit + 2)
        #expect(diagnostics.contains { $0.message.contains("more") })
        #expect(reply.body.count < 256 * 1024, "the 422 is \(reply.body.count) bytes")
        try await broker.stop()
    }

    @Test func `the document is parsed off the state actor`() async throws {
        // The actor's own entry point takes a checked document: there is no way to hand it raw bytes.
        let check = try BrokerState.checkDocument(Array(BrokerAPITests.cpe.utf8))
        #expect(check.document?.workspaces.count == 2)
        #expect(throws: BrokerError.self) { try BrokerState.checkDocument(Self.flatDocument(10)) }
    }

    @Test func `the broker logs no data value and no token`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(BrokerAPITests.cpe, launch: true)
        let secret = "hunter2-very-secret"
        for (index, credential) in created.credentials.enumerated() {
            #expect(try await broker.checkIn(created.context.id, credential, index: index).status == 200)
        }
        for credential in created.credentials {
            let answer = try await broker.request(
                .GET,
                BrokerRoutes.answer(created.context.id, credential.node) + "?wait=0",
                auth: .token(credential.token)
            )
            #expect(answer.status == 200)
        }
        let worker = try #require(created.credentials.first { $0.node == "worker-0" })
        let answer = try await broker.request(.GET, BrokerRoutes.answer(created.context.id, worker.node) + "?wait=0", auth: .token(worker.token))
        #expect(answer.text.contains(secret), "the node that requires the value gets it")
        let line = OutputLine(index: 0, time: Date(), phase: 3, script: "3-data/secret", stream: .stdout, text: "using \(secret)")
        _ = try await broker.request(
            .POST,
            BrokerRoutes.output(created.context.id, worker.node),
            auth: .token(worker.token),
            body: broker.json(OutputAppendRequest(lines: [line]))
        )
        _ = try await broker.request(.GET, BrokerRoutes.context(created.context.id))
        // Refusals log too: a wrong token, another node's token, a broken body.
        _ = try await broker.request(.GET, BrokerRoutes.contexts, auth: .token("mst_op_wrong-\(secret)"))
        _ = try await broker.request(.POST, BrokerRoutes.report(created.context.id, "head-0"), auth: .token(worker.token), body: Data("{".utf8))
        _ = try await broker.request(
            .POST,
            BrokerRoutes.report(created.context.id, worker.node),
            auth: .token(worker.token),
            body: Data("{\"\(secret)\"".utf8)
        )
        _ = try await broker.request(.POST, BrokerRoutes.contexts, body: Data("<cluster><x>\(secret)</x></cluster>".utf8))
        try await broker.stop()
        let logs = broker.logs.all.joined(separator: "\n")
        #expect(!logs.isEmpty)
        #expect(!logs.contains(secret))
        #expect(!logs.contains(broker.operatorToken))
        for credential in created.credentials { #expect(!logs.contains(credential.token)) }
    }
}
