import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MusterClient
import MusterCore
import NIOCore
import Synchronization

/// A tiny HTTP server on 127.0.0.1 and a free port, standing in for the broker so that a test can shape each answer
/// (statuses, error bodies, held requests, dropped streams).
enum TestBroker {
    /// Runs `body` with a server answering with `router`, on `port` (0: a free one), and stops the server after it.
    static func run<Result: Sendable>(
        _ router: Router<BasicRequestContext>,
        port: Int = 0,
        _ body: @Sendable (_ port: Int) async throws -> Result
    ) async throws -> Result {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test-broker")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw TestFailure("the test server did not start") }
            return try await body(port)
        }
    }

    /// Runs `body` with a port on 127.0.0.1 that refuses connections for as long as `body` runs: a socket is bound
    /// to it and never listens, so no test running alongside can take the port meanwhile.
    static func withClosedPort<Result: Sendable>(_ body: @Sendable (_ port: Int) async throws -> Result) async throws -> Result {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket() failed: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw TestFailure("could not bind a socket on 127.0.0.1: errno \(errno)") }
        return try await body(Int(UInt16(bigEndian: address.sin_port)))
    }
}

/// Runs `body` with a connection to `http://127.0.0.1:port` that owns its HTTP clients and records, instead of
/// sleeping, every delay it would wait; shuts the connection down afterwards.
func withConnection<Result: Sendable>(
    port: Int,
    retry: RetryPolicy = RetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(100), maximumDelay: .seconds(1), jitter: 0),
    reconnect: RetryPolicy = RetryPolicy(maximumAttempts: 5, baseDelay: .milliseconds(100), maximumDelay: .seconds(1), jitter: 0),
    timeouts: BrokerConfiguration.Timeouts = .init(connect: .seconds(30), request: .seconds(30)),
    sleeper: Sleeper = Sleeper(),
    _ body: @Sendable (BrokerConnection, Sleeper) async throws -> Result
) async throws -> Result {
    let configuration = try BrokerConfiguration(url: "http://127.0.0.1:\(port)", timeouts: timeouts, retry: retry, reconnect: reconnect)
    var logger = Logger(label: "muster-client-test")
    logger.logLevel = .critical
    let connection = try BrokerConnection(configuration: configuration, logger: logger, sleep: { try await sleeper.sleep($0) })
    do {
        let result = try await body(connection, sleeper)
        try await connection.shutdown()
        return result
    } catch {
        try? await connection.shutdown()
        throw error
    }
}

/// Stands in for `Task.sleep`: records each delay and returns at once, or first runs a hook (for a test that must
/// bring a server back before the client tries again).
final class Sleeper: Sendable {
    private let state = Mutex<[Duration]>([])
    private let hook: (@Sendable (_ call: Int) async throws -> Void)?

    init(hook: (@Sendable (_ call: Int) async throws -> Void)? = nil) {
        self.hook = hook
    }

    /// Every delay asked for so far.
    var delays: [Duration] { state.withLock { $0 } }

    func sleep(_ delay: Duration) async throws {
        let call = state.withLock { delays in
            delays.append(delay)
            return delays.count
        }
        try await hook?(call)
        try Task.checkCancellation()
    }
}

/// Counts and remembers what the test server received.
final class Recorder<Value: Sendable>: Sendable {
    private let state = Mutex<[Value]>([])

    init() {}

    func record(_ value: Value) -> Int {
        state.withLock { values in
            values.append(value)
            return values.count
        }
    }

    var values: [Value] { state.withLock { $0 } }
    var count: Int { state.withLock { $0.count } }
}

/// A one-shot signal between the test and its server: one side waits until the other fires.
final class Signal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self)
    }

    func fire() { continuation.finish() }

    func wait() async {
        for await _ in stream {}
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: Building responses

extension Response {
    /// A JSON response encoded as the broker encodes (`WireFormat`).
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try WireFormat.encoder().encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The broker's error body.
    static func error(
        _ status: HTTPResponse.Status,
        code: String,
        message: String,
        diagnostics: [Diagnostic]? = nil,
        expected: Int? = nil
    ) throws -> Response {
        try json(APIErrorBody(.init(code: code, message: message, diagnostics: diagnostics, expected: expected)), status: status)
    }

    /// A plain-text response (what a proxy in front of the broker might send).
    static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A Server-Sent Events response whose body `write` produces (throw from it to drop the connection).
    static func eventStream(_ write: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                try await write(&writer)
                try await writer.finish(nil)
            }
        )
    }
}

extension ResponseBodyWriter {
    mutating func write(_ text: String) async throws {
        try await write(ByteBuffer(string: text))
    }
}

extension Request {
    /// A header's value.
    func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// A query parameter's value.
    func query(_ name: String) -> String? {
        uri.queryParameters.get(name)
    }
}

// MARK: Fixtures

enum Fixture {
    static let time = Date(timeIntervalSince1970: 1_795_000_000.125)

    static func event(_ sequence: UInt64, context: ContextID = "c1") -> ContextEvent {
        ContextEvent(sequence: sequence, time: time, context: context, change: .nodeAdded(node: "web-\(sequence)", workspace: "web"))
    }

    /// An event as one SSE message, as the broker writes it.
    static func sse(_ event: ContextEvent) throws -> String {
        let json = String(decoding: try WireFormat.encoder().encode(event), as: UTF8.self)
        return "id: \(event.sequence)\nevent: \(event.change.kind)\ndata: \(json)\n\n"
    }

    static func line(_ index: Int) -> OutputLine {
        OutputLine(
            index: index,
            time: time,
            phase: 1,
            script: "1-ipandhost/head",
            stream: index.isMultiple(of: 2) ? .stdout : .stderr,
            text: "line \(index)"
        )
    }

    static func sse(_ line: OutputLine) throws -> String {
        let json = String(decoding: try WireFormat.encoder().encode(line), as: UTF8.self)
        return "id: \(line.index)\nevent: \(BrokerProtocol.outputEvent)\ndata: \(json)\n\n"
    }

    static let summary = ContextSummary(
        id: "c1",
        name: "torque",
        createdAt: time,
        status: ContextStatus(
            complete: false,
            allOk: false,
            errorPresent: false,
            registered: 1,
            expected: 3,
            terminated: false,
            counts: [.waiting: 1, .pending: 2]
        )
    )

    static let identity = Identity(
        interface: "publicnic",
        ip: "10.0.0.5",
        hostname: "head.example.org",
        pubkey: SSHPublicKey(ed25519: Array(repeating: 0x2A, count: 32), comment: "head").line
    )

    static func answer(released: Bool, version: Int = 1) -> AnswerResponse {
        AnswerResponse(
            released: released,
            state: released ? .configuring : .waiting,
            requirements: [],
            answer: released ? NodeAnswer(version: version, identities: [], roles: [], data: []) : nil
        )
    }
}
