import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MusterCore
import NIOCore
import Synchronization

/// A tiny HTTP server on 127.0.0.1 and a free port that stands in for the broker, so that a test can shape each
/// answer an agent gets (statuses, outages) and see what it was sent.
enum StubBroker {
    /// Runs `body` with a server answering with `router`, and stops the server after it.
    static func run<Result: Sendable>(
        _ router: Router<BasicRequestContext>,
        _ body: @Sendable (_ url: URL) async throws -> Result
    ) async throws -> Result {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "stub-broker")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
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
            guard let port = await iterator.next() else { throw StubFailure("the stub broker did not start") }
            return try await body(URL(string: "http://127.0.0.1:\(port)")!)
        }
    }
}

struct StubFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Response {
    /// A JSON response encoded as the broker encodes (`WireFormat`).
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try WireFormat.encoder().encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The broker's error body with `status`.
    static func refusal(_ status: HTTPResponse.Status, code: String, message: String, expected: Int? = nil) throws -> Response {
        try json(APIErrorBody(.init(code: code, message: message, expected: expected)), status: status)
    }
}

extension Request {
    /// The body decoded as the broker decodes it.
    func decode<T: Decodable>(_ type: T.Type) async throws -> T {
        let buffer = try await body.collect(upTo: 1 << 20)
        return try WireFormat.decoder().decode(T.self, from: Data(buffer.readableBytesView))
    }
}

/// Keeps what a stub saw, in order.
final class Seen<Value: Sendable>: Sendable {
    private let state = Mutex<[Value]>([])

    func append(_ value: Value) { state.withLock { $0.append(value) } }
    var all: [Value] { state.withLock { $0 } }
}

/// A log handler that keeps every message, so that a test can read what the agent logged.
struct CapturingLogHandler: LogHandler {
    let messages: Seen<String>
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let details = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        messages.append("\(event.level): \(event.message) \(details)")
    }

    /// A logger that keeps its messages in `messages`.
    static func logger(_ messages: Seen<String>) -> Logger {
        Logger(label: "agent-test") { _ in CapturingLogHandler(messages: messages) }
    }
}
