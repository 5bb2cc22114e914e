import Foundation
import Logging
import MusterClient
import MusterCore

/// The console's data feed over `MusterClient`: a snapshot, then the context's event stream (its history from
/// the first event, then live), the output of the one node the console shows, and the list of contexts.
///
/// Connections are few and deliberate: one event stream, at most one output stream (cancelled, and its
/// connection closed, as soon as the console looks elsewhere), and short calls. AsyncHTTPClient holds at most
/// eight connections per host for streams; a console that left streams open (one per released node) starved
/// its own event stream of a connection after a context switch.
public struct ClientConsoleFeed: ConsoleFeed {
    private let client: OperatorClient
    private let logger: Logger

    /// Creates a feed over an operator client.
    public init(client: OperatorClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func contexts() async -> [ContextSummary]? {
        try? await client.contexts()
    }

    public func launcher() async -> BrokerLauncher? {
        guard let launches = try? await client.health().launchesNodes else { return nil }
        return launches ? .broker : .external
    }

    public func updates(for context: ContextID) -> AsyncStream<ConsoleUpdate> {
        let (stream, continuation) = AsyncStream<ConsoleUpdate>.makeStream(bufferingPolicy: .unbounded)
        let client = client
        let logger = logger
        let task = Task {
            await Self.follow(context, client: client, logger: logger, into: continuation)
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    public func output(of node: String, in context: ContextID, attempt: Int, live: Bool) -> AsyncStream<ConsoleUpdate> {
        let (stream, continuation) = AsyncStream<ConsoleUpdate>.makeStream(bufferingPolicy: .unbounded)
        let client = client
        let logger = logger
        let task = Task {
            do {
                if live {
                    for try await element in client.outputStream(of: node, in: context) {
                        if case .line(let line) = element { continuation.yield(.output(node: node, attempt: attempt, lines: [line])) }
                    }
                } else {
                    var from = 0
                    while !Task.isCancelled {
                        let page = try await client.output(of: node, in: context, generation: attempt, from: from, limit: 5_000)
                        continuation.yield(.output(node: node, attempt: attempt, lines: page.lines))
                        if page.lines.isEmpty || page.next >= page.total { break }
                        from = page.next
                    }
                }
            } catch {
                if !Task.isCancelled {
                    logger.debug("output of a node not read", metadata: ["node": "\(node)", "error": "\(error)"])
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private static func follow(
        _ context: ContextID,
        client: OperatorClient,
        logger: Logger,
        into continuation: AsyncStream<ConsoleUpdate>.Continuation
    ) async {
        var attempt = 0
        var since = Date()
        var first = true
        while !Task.isCancelled {
            do {
                let snapshot = try await client.snapshot(of: context)
                guard let picture = snapshot.contexts.first else { return }
                continuation.yield(.snapshot(picture))
                continuation.yield(.connection(.connected))
                if let health = try? await client.health() {
                    continuation.yield(.broker(address: client.connection.activeBaseURL, replica: health.replicaSummary))
                }
                attempt = 0
                // The first time, the history too: it tells when each node was launched and checked in.
                let after: UInt64 = first ? 0 : picture.sequence
                first = false
                var history: [ContextEvent] = []
                for try await element in client.events(context: context, after: after) {
                    switch element {
                    case .event(let event):
                        if event.sequence <= picture.sequence {
                            // Batched, so that ten thousand nodes' history costs a few updates, not one each.
                            history.append(event)
                            if history.count >= 512 || event.sequence == picture.sequence {
                                continuation.yield(.events(history))
                                history = []
                            }
                            continue
                        }
                        if !history.isEmpty {
                            continuation.yield(.events(history))
                            history = []
                        }
                        continuation.yield(.events([event]))
                    case .connection(let state):
                        if state.isInterrupted {
                            since = Date()
                            continuation.yield(.connection(.reconnecting(attempt: 1, since: since, reason: "\(state)")))
                        } else {
                            continuation.yield(.connection(.connected))
                        }
                    }
                }
                return
            } catch {
                if Task.isCancelled { return }
                attempt += 1
                if attempt == 1 { since = Date() }
                logger.debug("console feed lost the broker", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                continuation.yield(.connection(.reconnecting(attempt: attempt, since: since, reason: "\(error)")))
                try? await Task.sleep(for: .milliseconds(min(5_000, 250 * (1 << min(attempt, 5)))))
            }
        }
    }
}
