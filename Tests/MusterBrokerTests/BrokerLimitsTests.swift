import Crypto
import Foundation
import MusterBroker
import MusterCore
import NIOHTTP1
import Testing

/// Timeouts, caps and quotas, each at its edge (the limits are lowered so the edge is reached quickly).
@Suite("Broker limits")
struct BrokerLimitsTests {
    @Test func `a connection that sends no request head is closed after the header timeout`() async throws {
        let broker = try await TestBroker.start(limits: BrokerLimits(headerTimeout: .milliseconds(300)))
        let connection = try RawConnection(port: broker.port)
        try connection.send("GET /v1/heal")
        // The close comes 300 ms in; a full test run on two cores has stalled the test process for over 30 s.
        let (_, closed) = await connection.readUntilClosed(timeout: .seconds(120))
        #expect(closed)
        #expect(try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text.contains("muster_connection_header_timeouts_total 1"))
        try await broker.stop()
    }

    @Test func `an idle keep-alive connection is closed after the idle timeout`() async throws {
        // Long enough that a machine busy with the other suites reads the request before the connection counts as
        // idle; the test waits far longer for the close.
        let broker = try await TestBroker.start(limits: BrokerLimits(idleTimeout: .seconds(3)))
        let connection = try RawConnection(port: broker.port)
        try connection.send(RawConnection.request(BrokerRoutes.health))
        let (data, closed) = await connection.readUntilClosed(timeout: .seconds(120))
        #expect(String(decoding: data, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        #expect(closed)
        try await broker.stop()
    }

    @Test func `at the connection cap a new connection closes the longest-idle one`() async throws {
        let broker = try await TestBroker.start(limits: BrokerLimits(maxConnections: 4))
        let idle = try (0..<4).map { _ in try RawConnection(port: broker.port) }
        // Each health check is a new connection: every one gets in, shedding an idle one.
        for _ in 0..<3 { #expect(await broker.isHealthy()) }
        var closed = 0
        for connection in idle where await connection.readUntilClosed(timeout: .seconds(5)).closed { closed += 1 }
        #expect(closed >= 1)
        #expect(try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text.contains("muster_connections_shed_total"))
        try await broker.stop()
    }

    @Test func `one token may hold only so many streams, and one more is refused with 429`() async throws {
        let broker = try await TestBroker.start(limits: BrokerLimits(maxStreamsPerToken: 2))
        var open = try (0..<2).map { _ in try RawConnection(port: broker.port) }
        for connection in open { try connection.send(RawConnection.request(BrokerRoutes.events, token: broker.operatorToken)) }
        var third = try await broker.status(.GET, BrokerRoutes.events)
        for _ in 0..<200 where third.status == 200 {
            // The two streams may not be open yet: wait until the broker has them.
            try await Task.sleep(for: .milliseconds(20))
            third = try await broker.status(.GET, BrokerRoutes.events)
        }
        #expect(third.status == 429)
        let error = try WireFormat.decoder().decode(APIErrorBody.self, from: third.body ?? Data()).error
        #expect(error.code == "too-many-streams")
        #expect(error.message.contains("at most 2"))
        // Closing one makes room again.
        open[0].shutdown()
        open.removeFirst()
        var status = 429
        for _ in 0..<500 where status == 429 {
            status = try await broker.status(.GET, BrokerRoutes.events).status
            if status == 429 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(status == 200)
        try await broker.stop()
    }

    @Test func `a reader that never reads is dropped, and resuming from its last id misses nothing`() async throws {
        let broker = try await TestBroker.start(limits: BrokerLimits(streamBuffer: 8))
        let created = try await broker.create(BrokerAPITests.cpe)
        let head = try #require(created.credentials.first { $0.node == "head-0" })
        let path = BrokerRoutes.outputStream(created.context.id, head.node)
        let slow = try RawConnection(port: broker.port, receiveBuffer: 4_096)
        try slow.send(RawConnection.request(path, token: broker.operatorToken))
        // Until the slow reader is dropped: 60 lines of 16 KiB per request (the output body limit is 1 MiB).
        let text = String(repeating: "x", count: 16 * 1024 - 64)
        var next = 0
        var dropped = false
        for _ in 0..<200 where !dropped {
            let lines = (0..<60).map {
                OutputLine(index: next + $0, time: Date(), phase: 2, script: "2-thishost/publicnic", stream: .stdout, text: text)
            }
            next += 60
            let reply = try await broker.request(
                .POST,
                BrokerRoutes.output(created.context.id, head.node),
                auth: .token(head.token),
                body: broker.json(OutputAppendRequest(lines: lines))
            )
            #expect(reply.status == 200)
            dropped = try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text.contains("muster_streams_dropped_total 1")
        }
        #expect(dropped)
        // What reached the slow reader before its connection closed ends at a whole message; resume from there.
        let (data, closed) = await slow.readUntilClosed(timeout: .seconds(60))
        #expect(closed)
        let received = String(decoding: data, as: UTF8.self)
        let ids = received.components(separatedBy: "\n\n").dropLast().compactMap { block in
            block.split(separator: "\n").first { $0.hasPrefix("id: ") }.flatMap { Int($0.dropFirst(4)) }
        }
        let last = ids.last ?? -1
        #expect(last < next - 1, "the slow reader was dropped before the end")
        var resumed = try await EventStreamReader.open(broker, path: path, lastEventID: last >= 0 ? UInt64(last) : nil)
        let lines = try await resumed.nextOutput(count: 1)
        #expect(lines.first?.index == last + 1)
        resumed.close()
        try await broker.stop()
    }

    @Test func `output beyond the quota drops the oldest lines and leaves a marker saying how many`() async throws {
        let broker = try await TestBroker.start(limits: BrokerLimits(maxOutputLines: 10))
        let created = try await broker.create(BrokerAPITests.cpe)
        let head = try #require(created.credentials.first { $0.node == "head-0" })
        for batch in 0..<5 {
            let lines = (0..<5).map {
                OutputLine(index: batch * 5 + $0, time: Date(), phase: 2, script: "s", stream: .stdout, text: "line \(batch * 5 + $0)")
            }
            let reply = try await broker.request(
                .POST,
                BrokerRoutes.output(created.context.id, head.node),
                auth: .token(head.token),
                body: broker.json(OutputAppendRequest(lines: lines))
            )
            #expect(try reply.decode(OutputAppendResult.self).next == batch * 5 + 5)
        }
        let page = try await broker.request(.GET, BrokerRoutes.output(created.context.id, head.node)).decode(OutputPage.self)
        #expect(page.lines.count <= 10)
        #expect(page.lines.last?.text == "line 24")
        #expect(page.total == 25)
        let marker = try #require(page.lines.first)
        #expect(marker.text.contains("\(marker.index + 1) earlier output line"))
        #expect(page.lines.dropFirst().map(\.index) == Array((marker.index + 1)...24))
        let metrics = try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text
        #expect(metrics.contains("muster_output_lines_dropped_total \(marker.index + 1)"))
        try await broker.stop()
    }

    @Test func `the output quota holds across a restart`() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-quota-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let limits = BrokerLimits(maxOutputBytes: 2_000)
        let broker = try await TestBroker.start(stateDirectory: folder, limits: limits)
        let created = try await broker.create(BrokerAPITests.cpe)
        let head = try #require(created.credentials.first { $0.node == "head-0" })
        func append(_ range: Range<Int>, to broker: TestBroker) async throws {
            let lines = range.map {
                OutputLine(index: $0, time: Date(), phase: 2, script: "s", stream: .stdout, text: String(repeating: "y", count: 100))
            }
            let reply = try await broker.request(
                .POST,
                BrokerRoutes.output(created.context.id, head.node),
                auth: .token(head.token),
                body: broker.json(OutputAppendRequest(lines: lines))
            )
            #expect(reply.status == 200)
        }
        try await append(0..<15, to: broker)
        try await broker.stop()
        let again = try await TestBroker.start(stateDirectory: folder, limits: limits)
        try await append(15..<40, to: again)
        let page = try await again.request(.GET, BrokerRoutes.output(created.context.id, head.node)).decode(OutputPage.self)
        #expect(page.lines.reduce(0) { $0 + $1.text.utf8.count } <= 2_000)
        #expect(page.lines.last?.index == 39)
        #expect(page.lines.first?.text.contains("earlier output lines dropped") == true)
        try await again.stop()
    }

    @Test func `script runs beyond the timeline cap are not recorded and are counted`() async throws {
        let broker = try await TestBroker.start(limits: BrokerLimits(maxTimelineEntries: 3))
        let created = try await broker.create(BrokerAPITests.cpe, launch: true)
        let head = try #require(created.credentials.first { $0.node == "head-0" })
        #expect(try await broker.checkIn(created.context.id, head, index: 0).status == 200)
        for index in 0..<5 {
            let script = ScriptRef(phase: 2, script: "2-thishost/publicnic-\(index)", arguments: [])
            for exitCode in [nil, 0] as [Int?] {
                let reply = try await broker.request(
                    .POST,
                    BrokerRoutes.scripts(created.context.id, head.node),
                    auth: .token(head.token),
                    body: broker.json(ScriptReport(script: script, exitCode: exitCode))
                )
                #expect(reply.status == 204, "\(reply.text)")
            }
        }
        let node = try await broker.request(.GET, BrokerRoutes.node(created.context.id, head.node)).decode(NodeSnapshot.self)
        #expect(node.timeline.count == 3)
        #expect(try await broker.request(.GET, BrokerRoutes.metrics, auth: .none).text.contains("muster_timeline_entries_dropped_total 2"))
        try await broker.stop()
    }

    @Test func `the masked data digest is keyed per broker and kept across restarts`() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-digest-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func digest(_ broker: TestBroker, _ id: ContextID) async throws -> String {
            let detail = try await broker.request(.GET, BrokerRoutes.context(id)).decode(ContextDetail.self)
            return try #require(detail.data["worker"]?.first?.sha256)
        }
        let first = try await TestBroker.start(stateDirectory: folder)
        let created = try await first.create(BrokerAPITests.cpe)
        let one = try await digest(first, created.context.id)
        try await first.stop()
        let restarted = try await TestBroker.start(stateDirectory: folder)
        #expect(try await digest(restarted, created.context.id) == one)
        try await restarted.stop()
        let other = try await TestBroker.start()
        let elsewhere = try await other.create(BrokerAPITests.cpe)
        #expect(try await digest(other, elsewhere.context.id) != one)
        try await other.stop()
        // Not a plain SHA-256 prefix, which anyone could compute from a guess.
        let plain = SHA256Prefix.of("hunter2-very-secret")
        #expect(one != plain)
        #expect(one.count == 12)
    }
}

/// The digest operator views showed before: the first 12 hex digits of the value's SHA-256.
enum SHA256Prefix {
    static func of(_ value: String) -> String {
        Array(Crypto.SHA256.hash(data: Data(value.utf8))).prefix(6).map { String(format: "%02x", $0) }.joined()
    }
}
