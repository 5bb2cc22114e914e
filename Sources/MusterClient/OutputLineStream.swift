import Foundation
import MusterCore

/// An element of an ``OutputLineStream``: a line of script output, or news about the stream's connection.
public enum OutputStreamElement: Sendable, Hashable {
    /// The next line. Indexes only increase: none is repeated, and none is skipped.
    case line(OutputLine)
    /// The connection changed (see ``StreamConnectionState``).
    case connection(StreamConnectionState)
}

/// A node's script output (`GET …/nodes/{node}/output/stream`): the lines so far, then live lines as the agent
/// sends them, through dropped connections and broker restarts. Get one from
/// ``OperatorClient/outputStream(of:in:from:)``.
///
/// It behaves as ``EventStream`` does, with the line index in place of the event sequence number: after a broken
/// connection it reconnects with `Last-Event-ID: <last index delivered>` and `from=<that index + 1>` (the first
/// index wanted, as in ``OperatorClient/output(of:in:from:limit:)``), and drops any line at or below the last
/// index delivered. Messages other than `event: output` are ignored.
public struct OutputLineStream: AsyncSequence, Sendable {
    /// A line or a connection state.
    public typealias Element = OutputStreamElement

    private let connection: BrokerConnection
    private let token: String
    /// The node's context.
    public let context: ContextID
    /// The node.
    public let node: String
    /// The index of the first line wanted.
    public let from: Int

    init(connection: BrokerConnection, token: String, context: ContextID, node: String, from: Int) {
        self.connection = connection
        self.token = token
        self.context = context
        self.node = node
        self.from = Swift.max(0, from)
    }

    /// Starts following (the first connection is made by the first call to `next()`).
    public func makeAsyncIterator() -> AsyncIterator {
        let from = self.from
        let source = StreamSource<OutputLine>(
            path: BrokerRoutes.outputStream(context, node),
            query: [],
            name: "output stream of \(node)",
            initialCursor: from > 0 ? UInt64(from - 1) : nil,
            resumeQuery: { cursor in [("from", cursor.map { String($0 + 1) } ?? String(from))] },
            decode: { message, decoder in
                guard message.event == BrokerProtocol.outputEvent, !message.data.isEmpty else { return nil }
                let line = try decoder.decode(OutputLine.self, from: Data(message.data.utf8))
                return (UInt64(Swift.max(0, line.index)), line)
            }
        )
        return AsyncIterator(base: ResumableStreamIterator(connection: connection, token: token, source: source))
    }

    /// Pulls lines from the broker; see ``OutputLineStream``.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private var base: ResumableStreamIterator<OutputLine>

        init(base: ResumableStreamIterator<OutputLine>) {
            self.base = base
        }

        /// The next line or connection state; `nil` once the task is cancelled.
        public mutating func next() async throws -> OutputStreamElement? {
            switch try await base.next() {
            case nil: nil
            case .item(let line): .line(line)
            case .connection(let state): .connection(state)
            }
        }
    }
}
