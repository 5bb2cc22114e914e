import AsyncHTTPClient
import Foundation
import Logging
import MusterCore
import NIOCore
import NIOHTTP1
import Synchronization

/// What one of the broker's Server-Sent Event streams carries, and how to resume it: the part that differs between
/// ``EventStream`` and ``OutputLineStream``.
struct StreamSource<Item: Sendable>: Sendable {
    /// The route.
    var path: String
    /// Query items sent on every connection (for example `context`).
    var query: [(name: String, value: String)]
    /// What the stream is called in messages, such as `event stream`.
    var name: String
    /// The cursor before the first item wanted (items at or below it are dropped), if any.
    var initialCursor: UInt64?
    /// The query items that ask for the items after `cursor` (`nil`: none seen and none given).
    var resumeQuery: @Sendable (_ cursor: UInt64?) -> [(name: String, value: String)]
    /// Decodes one message into an item and its cursor; `nil` for a message to skip.
    var decode: @Sendable (_ message: ServerSentEvent, _ decoder: JSONDecoder) throws -> (cursor: UInt64, item: Item)?
}

/// An item of a resumable stream, or news about its connection.
enum StreamOutput<Item: Sendable>: Sendable {
    case item(Item)
    case connection(StreamConnectionState)
}

/// The engine of ``EventStream`` and ``OutputLineStream``: pulls bytes from the broker's SSE response, parses
/// them, drops what was already delivered, and reconnects with `Last-Event-ID` after a broken connection.
///
/// Pull-based: nothing is read from the network until the consumer asks for the next element, so a slow consumer
/// slows the stream (TCP back-pressure) instead of filling a buffer. Cancelling the consuming task ends the
/// stream (`next()` returns `nil`).
struct ResumableStreamIterator<Item: Sendable> {
    private enum Phase {
        /// Connect, after waiting `delay` if there is one.
        case connect(delay: Duration?)
        /// Read the open stream.
        case streaming(HTTPClientResponse.Body.AsyncIterator)
        /// The last try failed (or the stream broke) for this reason: reconnect if the policy allows.
        case failed(BrokerClientError)
        /// Throw this error once the items already parsed are delivered.
        case terminal(BrokerClientError)
        case finished
    }

    private let connection: BrokerConnection
    private let token: String
    private let source: StreamSource<Item>
    private let decoder = WireFormat.decoder()
    private var phase = Phase.connect(delay: nil)
    private var parser = ServerSentEventParser()
    private var pending: [StreamOutput<Item>] = []
    private var pendingIndex = 0
    /// The cursor of the last item delivered: what `Last-Event-ID` carries.
    private(set) var lastCursor: UInt64?
    /// The waits between reconnect attempts; reset by every successful connection.
    private var backoff: Backoff
    /// Whether the stream was ever open (a later connection is then a reconnection).
    private var wasConnected = false
    /// When the open stream broke (for the downtime a reconnection reports).
    private var lostAt: ContinuousClock.Instant?

    init(connection: BrokerConnection, token: String, source: StreamSource<Item>) {
        self.connection = connection
        self.token = token
        self.source = source
        self.lastCursor = source.initialCursor
        self.backoff = Backoff(policy: connection.configuration.reconnect)
    }

    mutating func next() async throws -> StreamOutput<Item>? {
        while true {
            if pendingIndex < pending.count {
                defer { pendingIndex += 1 }
                return pending[pendingIndex]
            }
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0

            switch phase {
            case .finished:
                return nil

            case .terminal(let error):
                phase = .finished
                throw error

            case .connect(let delay):
                if let delay {
                    do {
                        try await connection.sleep(delay)
                    } catch {
                        phase = .finished
                        return nil
                    }
                }
                if Task.isCancelled {
                    phase = .finished
                    return nil
                }
                do {
                    let body = try await open()
                    phase = .streaming(body.makeAsyncIterator())
                    parser = ServerSentEventParser()
                    return .connection(connected())
                } catch let error as BrokerClientError {
                    guard error.isTransient || error.code == .serverError else {
                        phase = .finished
                        throw error
                    }
                    phase = .failed(error)
                } catch {
                    phase = .finished
                    return nil
                }

            case .streaming(var body):
                let chunk: ByteBuffer?
                do {
                    chunk = try await body.next()
                } catch {
                    if Task.isCancelled || error is CancellationError {
                        phase = .finished
                        return nil
                    }
                    return lose(streamError(error))
                }
                guard let chunk else {
                    return lose(
                        BrokerClientError(
                            code: .connectionLost,
                            message: "the broker at \(connection.activeBaseURL) ended the \(source.name)"
                        )
                    )
                }
                phase = .streaming(body)
                deliver(parser.feed(chunk.readableBytesView))

            case .failed(let error):
                // A stream that broke or could not open tries the broker's next address (when it has several).
                connection.failover(from: error.baseURL ?? connection.activeBaseURL)
                guard let delay = backoff.failed() else {
                    phase = .finished
                    throw error
                }
                phase = .connect(delay: delay)
                connection.logger.debug(
                    "reconnecting stream",
                    metadata: [
                        "stream": "\(source.path)", "attempt": "\(backoff.failures)", "delay-ms": "\(delay.milliseconds)",
                        "error-code": "\(error.code)", "last-event-id": "\(lastCursor.map(String.init) ?? "-")",
                    ]
                )
                return .connection(.reconnecting(attempt: backoff.failures, delay: delay, reason: error.message))
            }
        }
    }

    /// Queues the items of freshly parsed messages, dropping any at or below the last cursor.
    private mutating func deliver(_ messages: [ServerSentEvent]) {
        for message in messages {
            let decoded: (cursor: UInt64, item: Item)?
            do {
                decoded = try source.decode(message, decoder)
            } catch {
                phase = .terminal(
                    BrokerClientError(
                        code: .decoding,
                        message: "the \(source.name) sent a `\(message.event)` message (id \(message.id ?? "-")) this client cannot read "
                            + "(is the broker the same version?): \(error)",
                        request: "GET \(source.path)",
                        underlying: error
                    )
                )
                return
            }
            guard let decoded else { continue }
            if let last = lastCursor, decoded.cursor <= last {
                connection.logger.trace("dropping repeated stream item", metadata: ["stream": "\(source.path)", "id": "\(decoded.cursor)"])
                continue
            }
            lastCursor = decoded.cursor
            pending.append(.item(decoded.item))
        }
    }

    /// Notes that the open stream broke: reconnecting follows, starting from the policy's shortest wait.
    private mutating func lose(_ error: BrokerClientError) -> StreamOutput<Item> {
        connection.logger.debug("stream lost", metadata: ["stream": "\(source.path)", "error-code": "\(error.code)"])
        lostAt = ContinuousClock.now
        phase = .failed(error)
        return .connection(.lost(reason: error.message))
    }

    /// Notes that a connection was made: the back-off starts over, and a reconnection says how long it took.
    private mutating func connected() -> StreamConnectionState {
        let attempts = backoff.failures
        backoff.succeeded()
        defer {
            wasConnected = true
            lostAt = nil
        }
        guard wasConnected else { return .connected }
        let downtime = lostAt.map { ContinuousClock.now - $0 } ?? .zero
        connection.logger.debug(
            "stream reconnected",
            metadata: ["stream": "\(source.path)", "attempts": "\(attempts)", "downtime-ms": "\(downtime.milliseconds)"]
        )
        return .reconnected(attempts: max(attempts, 1), downtime: downtime)
    }

    private func streamError(_ error: any Error) -> BrokerClientError {
        if let error = error as? HTTPClientError, error == .readTimeout, let idle = connection.configuration.timeouts.streamIdle {
            return BrokerClientError(
                code: .timedOut,
                message: "no data from the broker at \(connection.activeBaseURL) for \(idle.seconds) s (not even a heartbeat)",
                request: "GET \(source.path)",
                underlying: error
            )
        }
        return connection.transportError(
            error,
            call: "GET \(source.path)",
            timeout: connection.configuration.timeouts.request,
            base: connection.activeBaseURL
        )
    }

    /// Opens the stream after the last cursor: `Last-Event-ID` and the source's resume query.
    private func open() async throws -> HTTPClientResponse.Body {
        var call = BrokerCall(
            .GET,
            source.path,
            query: source.query + source.resumeQuery(lastCursor),
            token: token,
            safety: .idempotent,
            accept: "text/event-stream"
        )
        call.timeout = connection.configuration.timeouts.request
        guard !connection.shutDownState.withLock({ $0 }) else {
            throw BrokerClientError(code: .shutDown, message: "\(call): the broker connection was shut down", request: "\(call)")
        }
        let base = connection.activeBaseURL
        var request = connection.makeRequest(call, base: base)
        request.headers.add(name: "Cache-Control", value: "no-cache")
        if let lastCursor { request.headers.add(name: "Last-Event-ID", value: String(lastCursor)) }
        let response: HTTPClientResponse
        do {
            response = try await connection.streamClient.execute(
                request,
                deadline: .now() + TimeAmount(connection.configuration.timeouts.request),
                logger: connection.logger
            )
        } catch {
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            throw connection.transportError(error, call: "\(call)", timeout: connection.configuration.timeouts.request, base: base)
        }
        guard response.status == .ok else {
            let body = (try? await response.body.collect(upTo: 1 << 16)) ?? ByteBuffer()
            throw connection.errorForStatus(response.status, body: body, call: "\(call)", base: base)
        }
        connection.logger.debug(
            "stream connected",
            metadata: ["stream": "\(source.path)", "last-event-id": "\(lastCursor.map(String.init) ?? "-")"]
        )
        return response.body
    }
}
