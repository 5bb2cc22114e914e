import Foundation
import Hummingbird
import MusterClient
import MusterCore
import NIOCore
import Testing

/// How a test describes what it saw on a stream, compactly.
private func describe(_ element: EventStreamElement) -> String {
    switch element {
    case .event(let event): "event \(event.sequence)"
    case .connection(.connected): "connected"
    case .connection(.lost): "lost"
    case .connection(.reconnecting(let attempt, _, _)): "reconnecting \(attempt)"
    case .connection(.reconnected(let attempts, _)): "reconnected after \(attempts)"
    }
}

private struct DroppedConnection: Error {}

@Suite("Event stream")
struct EventStreamTests {
    @Test("after the broker drops the connection, the stream resumes with Last-Event-ID, with no gap and no duplicate")
    func resumesAfterDrop() async throws {
        let requests = Recorder<String>()
        let sawEvent8 = Signal()
        let router = Router()
        router.get("/v1/events") { request, _ in
            let number = requests.record(
                "after=\(request.query("after") ?? "-") last=\(request.header("Last-Event-ID") ?? "-") context=\(request.query("context") ?? "-")"
            )
            return Response.eventStream { writer in
                switch number {
                case 1:
                    for sequence: UInt64 in 6...8 { try await writer.write(try Fixture.sse(Fixture.event(sequence))) }
                    try await writer.write("id: 9\nevent: node-added\ndata: {\"sequence\": 9, \"ti")  // cut mid-message
                    await sawEvent8.wait()
                    throw DroppedConnection()
                default:
                    // The broker repeats the last event it sent (a duplicate the client must drop), then carries on.
                    try await writer.write(": heartbeat\n\n")
                    for sequence: UInt64 in 8...11 { try await writer.write(try Fixture.sse(Fixture.event(sequence))) }
                }
            }
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, sleeper in
                var seen: [String] = []
                for try await element in connection.operatorClient(token: "op").events(context: "c1", after: 5) {
                    seen.append(describe(element))
                    if case .event(let event) = element, event.sequence == 8 { sawEvent8.fire() }
                    if case .event(let event) = element, event.sequence == 11 { break }
                }
                #expect(
                    seen == [
                        "connected", "event 6", "event 7", "event 8", "lost", "reconnecting 1", "reconnected after 1", "event 9", "event 10",
                        "event 11",
                    ]
                )
                #expect(sleeper.delays == [.milliseconds(100)])
            }
        }
        #expect(requests.values.prefix(2) == ["after=5 last=5 context=c1", "after=8 last=8 context=c1"])
    }

    @Test("a stream the broker ends cleanly (a graceful shutdown) is resumed too")
    func resumesAfterCleanEnd() async throws {
        let requests = Recorder<String>()
        let router = Router()
        router.get("/v1/events") { request, _ in
            let number = requests.record(request.header("Last-Event-ID") ?? "-")
            return Response.eventStream { writer in
                let range: ClosedRange<UInt64> = number == 1 ? 1...2 : 3...4
                for sequence in range { try await writer.write(try Fixture.sse(Fixture.event(sequence))) }
            }
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                var events: [UInt64] = []
                for try await event in connection.operatorClient(token: "op").events().eventsOnly {
                    events.append(event.sequence)
                    if event.sequence == 4 { break }
                }
                #expect(events == [1, 2, 3, 4])
            }
        }
        #expect(requests.values.prefix(2) == ["-", "2"])
    }

    @Test("across a broker restart the stream reports each reconnect attempt, then resumes where it stopped")
    func resumesAcrossRestart() async throws {
        let requests = Recorder<String>()
        let makeRouter: @Sendable () -> Router<BasicRequestContext> = {
            let router = Router()
            router.get("/v1/events") { request, _ in
                let number = requests.record(request.header("Last-Event-ID") ?? "-")
                return Response.eventStream { writer in
                    let range: ClosedRange<UInt64> = number == 1 ? 1...3 : 4...5
                    for sequence in range { try await writer.write(try Fixture.sse(Fixture.event(sequence))) }
                    try await Task.sleep(for: .seconds(30))  // hold the stream open until the server stops
                }
            }
            return router
        }
        // The first broker runs until the test has seen event 3.
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let (stopFirst, stopFirstContinuation) = AsyncStream.makeStream(of: Void.self)
        let firstBroker = Task {
            try await TestBroker.run(makeRouter()) { port in
                portContinuation.yield(port)
                for await _ in stopFirst { break }
            }
        }
        var portIterator = ports.makeAsyncIterator()
        let port = try #require(await portIterator.next())
        // The second broker, on the same port, is started just before the third reconnect attempt.
        let secondBroker = Recorder<Task<Void, any Error>>()
        let (stopSecond, stopSecondContinuation) = AsyncStream.makeStream(of: Void.self)
        let sleeper = Sleeper { call in
            switch call {
            case 1:
                _ = try? await firstBroker.value  // attempts 1 and 2 find the broker down
            case 3:
                let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
                _ = secondBroker.record(
                    Task {
                        try await TestBroker.run(makeRouter(), port: port) { _ in
                            startedContinuation.yield()
                            for await _ in stopSecond { break }
                        }
                    }
                )
                for await _ in started { break }
            default:
                break
            }
        }
        let seen = try await withConnection(port: port, sleeper: sleeper) { connection, _ in
            var seen: [String] = []
            for try await element in connection.operatorClient(token: "op").events() {
                seen.append(describe(element))
                if case .event(let event) = element, event.sequence == 3 { stopFirstContinuation.finish() }
                if case .event(let event) = element, event.sequence == 5 { break }
            }
            return seen
        }
        stopSecondContinuation.finish()
        for task in secondBroker.values { try await task.value }
        #expect(
            seen == [
                "connected", "event 1", "event 2", "event 3", "lost", "reconnecting 1", "reconnecting 2", "reconnecting 3",
                "reconnected after 3", "event 4", "event 5",
            ]
        )
        #expect(requests.values == ["-", "3"])
    }

    @Test func `the back-off starts over after every reconnection: the next outage begins with the shortest wait`() async throws {
        let requests = Recorder<Int>()
        let router = Router()
        router.get("/v1/events") { _, _ in
            // Up, away twice, up, away once, up: each time up, the stream sends one event and ends (a restart).
            let number = requests.record(0)
            let event: UInt64? = [1: 1, 4: 2, 6: 3][number]
            guard let event else { return try Response.error(.serviceUnavailable, code: "unavailable", message: "starting") }
            return Response.eventStream { writer in try await writer.write(try Fixture.sse(Fixture.event(event))) }
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, sleeper in
                var seen: [String] = []
                for try await element in connection.operatorClient(token: "op").events() {
                    seen.append(describe(element))
                    if case .event(let event) = element, event.sequence == 3 { break }
                }
                #expect(
                    seen == [
                        "connected", "event 1", "lost", "reconnecting 1", "reconnecting 2", "reconnecting 3", "reconnected after 3", "event 2",
                        "lost", "reconnecting 1", "reconnecting 2", "reconnected after 2", "event 3",
                    ]
                )
                #expect(sleeper.delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(100), .milliseconds(200)])
            }
        }
    }

    @Test func `a reconnection says how long the stream was away, for a line such as "reconnected after 1.2 s"`() {
        let state = StreamConnectionState.reconnected(attempts: 4, downtime: .milliseconds(31_420))
        #expect(!state.isInterrupted)
        #expect(state.description == "reconnected after 31.4 s (4 attempts)")
    }

    @Test func `a follower waits at most 2 s between reconnect attempts, however long the broker was away`() {
        var backoff = Backoff(policy: .streams)
        let delays = (1...40).compactMap { _ in backoff.failed(unitRandom: 0) }
        #expect(delays.count == 40)
        #expect(delays.max() == .seconds(2))
        #expect(delays.first == .milliseconds(250))
    }

    @Test("a refused token ends the stream with the error instead of reconnecting")
    func unauthorizedIsTerminal() async throws {
        let router = Router()
        router.get("/v1/events") { _, _ in try Response.error(.unauthorized, code: "unauthorized", message: "unknown token") }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, sleeper in
                var seen: [String] = []
                let error = try await #require(throws: BrokerClientError.self) {
                    for try await element in connection.operatorClient(token: "wrong").events() { seen.append(describe(element)) }
                }
                #expect(error.code == .unauthorized)
                #expect(error.brokerMessage == "unknown token")
                #expect(seen.isEmpty)
                #expect(sleeper.delays.isEmpty)
            }
        }
    }

    @Test("when the broker cannot be reached the stream keeps trying, then gives up after the policy's attempts")
    func unreachableGivesUp() async throws {
        try await TestBroker.withClosedPort { port in
            let reconnect = RetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(100), maximumDelay: .seconds(1), jitter: 0)
            try await withConnection(port: port, reconnect: reconnect) { connection, sleeper in
                var seen: [String] = []
                let error = try await #require(throws: BrokerClientError.self) {
                    for try await element in connection.operatorClient(token: "op").events() { seen.append(describe(element)) }
                }
                #expect(error.code == .cannotConnect)
                #expect(seen == ["reconnecting 1", "reconnecting 2"])
                #expect(sleeper.delays == [.milliseconds(100), .milliseconds(200)])
            }
        }
    }

    @Test("a silent stream (no heartbeat) is deemed dead and reconnected")
    func idleStreamReconnects() async throws {
        let requests = Recorder<Int>()
        let router = Router()
        router.get("/v1/events") { _, _ in
            let number = requests.record(0)
            return Response.eventStream { writer in
                try await writer.write(try Fixture.sse(Fixture.event(UInt64(number))))
                try await Task.sleep(for: .seconds(30))
            }
        }
        try await TestBroker.run(router) { port in
            // Generous connect and first-answer limits: on a machine busy with the other suites the first
            // connection must not fail for being slow, only the silent stream for being silent.
            let timeouts = BrokerConfiguration.Timeouts(connect: .seconds(30), request: .seconds(30), streamIdle: .seconds(5))
            try await withConnection(port: port, timeouts: timeouts) { connection, _ in
                // An event, then silence: the stream is lost for want of a heartbeat and comes back with a later
                // event. (A first connection too slow to deliver anything on a busy machine is not what this tests.)
                var eventBeforeLoss: UInt64?
                var reason: String?
                var eventAfterLoss: UInt64?
                reading: for try await element in connection.operatorClient(token: "op").events() {
                    switch element {
                    case .event(let event) where reason == nil:
                        eventBeforeLoss = event.sequence
                    case .event(let event):
                        eventAfterLoss = event.sequence
                        break reading
                    case .connection(.lost(let why)) where eventBeforeLoss != nil:
                        reason = why
                    default:
                        break
                    }
                }
                #expect(reason?.contains("heartbeat") == true, "\(reason ?? "never lost")")
                #expect((eventAfterLoss ?? 0) > (eventBeforeLoss ?? .max))
            }
        }
    }

    @Test("cancelling the consuming task ends the stream")
    func cancellationEnds() async throws {
        let router = Router()
        router.get("/v1/events") { _, _ in
            Response.eventStream { writer in
                try await writer.write(try Fixture.sse(Fixture.event(1)))
                try await Task.sleep(for: .seconds(30))
            }
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                let (firstEvent, gotFirst) = AsyncStream.makeStream(of: Void.self)
                let consumer = Task {
                    var count = 0
                    for try await element in connection.operatorClient(token: "op").events() {
                        if case .event = element { gotFirst.yield() }
                        count += 1
                    }
                    return count
                }
                for await _ in firstEvent { break }
                consumer.cancel()
                let count = try await consumer.value
                #expect(count == 2)
            }
        }
    }

    @Test("an event this client cannot decode ends the stream with a decoding error, after the events before it")
    func undecodableEvent() async throws {
        let router = Router()
        router.get("/v1/events") { _, _ in
            Response.eventStream { writer in
                try await writer.write(try Fixture.sse(Fixture.event(1)) + "id: 2\nevent: from-the-future\ndata: {\"kind\": \"from-the-future\"}\n\n")
                try await Task.sleep(for: .seconds(30))
            }
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                var seen: [String] = []
                let error = try await #require(throws: BrokerClientError.self) {
                    for try await element in connection.operatorClient(token: "op").events() { seen.append(describe(element)) }
                }
                #expect(error.code == .decoding)
                #expect(seen == ["connected", "event 1"])
            }
        }
    }
}

@Suite("Output stream")
struct OutputLineStreamTests {
    @Test("the output stream resumes from the line after the last one delivered, ignoring other messages")
    func outputResumes() async throws {
        let requests = Recorder<String>()
        let sawLine4 = Signal()
        let router = Router()
        router.get("/v1/contexts/c1/nodes/head-0/output/stream") { request, _ in
            let number = requests.record("from=\(request.query("from") ?? "-") last=\(request.header("Last-Event-ID") ?? "-")")
            return Response.eventStream { writer in
                if number == 1 {
                    for index in 3...4 { try await writer.write(try Fixture.sse(Fixture.line(index))) }
                    try await writer.write("event: generation\ndata: {}\n\n")
                    await sawLine4.wait()
                    throw DroppedConnection()
                }
                for index in 4...6 { try await writer.write(try Fixture.sse(Fixture.line(index))) }
            }
        }
        try await TestBroker.run(router) { port in
            try await withConnection(port: port) { connection, _ in
                var lines: [Int] = []
                var states: [StreamConnectionState] = []
                for try await element in connection.operatorClient(token: "op").outputStream(of: "head-0", in: "c1", from: 3) {
                    switch element {
                    case .line(let line):
                        lines.append(line.index)
                        if line.index == 4 { sawLine4.fire() }
                        #expect(line == Fixture.line(line.index))
                    case .connection(let state):
                        states.append(state)
                    }
                    if lines.last == 6 { break }
                }
                #expect(lines == [3, 4, 5, 6])
                #expect(states.filter { $0 == .connected }.count == 1)
                #expect(states.filter { if case .reconnected = $0 { true } else { false } }.count == 1)
            }
        }
        #expect(requests.values.prefix(2) == ["from=3 last=2", "from=5 last=4"])
    }
}
