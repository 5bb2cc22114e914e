import Foundation
import MusterCore

/// An element of an ``EventStream``: an event, or news about the stream's connection.
public enum EventStreamElement: Sendable, Hashable {
    /// The next event. Sequence numbers only increase: none is repeated, and none is skipped as long as the broker
    /// still holds the events missed while disconnected.
    case event(ContextEvent)
    /// The connection changed (see ``StreamConnectionState``).
    case connection(StreamConnectionState)
}

/// The broker's events (`GET /v1/events`), followed for as long as you iterate, through dropped connections and
/// broker restarts. Get one from ``OperatorClient/events(context:after:)``.
///
/// Each element is either an ``EventStreamElement/event(_:)`` or an ``EventStreamElement/connection(_:)`` state
/// change, so that a console can show "connection lost, reconnecting (attempt 3)" while it waits, and clear the
/// banner on ``StreamConnectionState/connected`` or ``StreamConnectionState/reconnected(attempts:downtime:)``.
///
/// **Resume without gap or duplicate.** The stream remembers the sequence number of the last event it delivered.
/// When the connection breaks (or the broker sends no heartbeat within
/// ``BrokerConfiguration/Timeouts/streamIdle``), it waits as ``BrokerConfiguration/reconnect`` says (jittered
/// exponential backoff, at most 2 s by default, starting over after every successful connection) and reconnects
/// with `Last-Event-ID: N` and `after=N`; any event the broker sends again with a sequence number ≤ N is dropped.
///
/// **Ends** when the consuming task is cancelled (the iterator returns `nil`), or throws a ``BrokerClientError``
/// when reconnecting is pointless (401, 403, 404, an event this client cannot decode) or the reconnect policy's
/// attempts run out (never, by default).
///
/// ```swift
/// let snapshot = try await client.snapshot()
/// for try await element in client.events(after: snapshot.sequence) {
///     switch element {
///     case .event(let event): model.apply(event)
///     case .connection(let state): model.banner = state.isInterrupted ? state.description : nil
///     }
/// }
/// ```
public struct EventStream: AsyncSequence, Sendable {
    /// An event or a connection state.
    public typealias Element = EventStreamElement

    private let connection: BrokerConnection
    private let token: String
    /// The context whose events the stream carries; `nil` for every context.
    public let context: ContextID?
    /// The sequence number the stream starts after, if one was given.
    public let after: UInt64?

    init(connection: BrokerConnection, token: String, context: ContextID?, after: UInt64?) {
        self.connection = connection
        self.token = token
        self.context = context
        self.after = after
    }

    /// Starts following (the first connection is made by the first call to `next()`).
    public func makeAsyncIterator() -> AsyncIterator {
        let source = StreamSource<ContextEvent>(
            path: BrokerRoutes.events,
            query: context.map { [("context", $0.rawValue)] } ?? [],
            name: "event stream",
            initialCursor: after,
            resumeQuery: { cursor in cursor.map { [("after", String($0))] } ?? [] },
            decode: { message, decoder in
                guard !message.data.isEmpty else { return nil }
                let event = try decoder.decode(ContextEvent.self, from: Data(message.data.utf8))
                return (event.sequence, event)
            }
        )
        return AsyncIterator(base: ResumableStreamIterator(connection: connection, token: token, source: source))
    }

    /// The events alone, without connection states (for a consumer that does not show them).
    public var eventsOnly: AsyncCompactMapSequence<EventStream, ContextEvent> {
        compactMap { element in
            if case .event(let event) = element { return event }
            return nil
        }
    }

    /// Pulls events from the broker; see ``EventStream``.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private var base: ResumableStreamIterator<ContextEvent>

        init(base: ResumableStreamIterator<ContextEvent>) {
            self.base = base
        }

        /// The sequence number of the last event delivered (or the stream's starting point).
        public var lastSequence: UInt64? { base.lastCursor }

        /// The next event or connection state; `nil` once the task is cancelled.
        public mutating func next() async throws -> EventStreamElement? {
            switch try await base.next() {
            case nil: nil
            case .item(let event): .event(event)
            case .connection(let state): .connection(state)
            }
        }
    }
}
