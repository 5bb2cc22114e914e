import Foundation
import Logging
import MusterClient
import MusterCore

/// The console's data feed over `MusterClient`: a snapshot, then the live event stream from the snapshot's
/// sequence number, then the output of released nodes, with the connection state for the banner.
public struct ClientConsoleFeed: ConsoleFeed {
    private let client: OperatorClient
    private let logger: Logger
    /// At most this many nodes' output is followed at once (the most recently released ones).
    private let outputStreams: Int

    /// Creates a feed over an operator client.
    public init(client: OperatorClient, logger: Logger, outputStreams: Int = 64) {
        self.client = client
        self.logger = logger
        self.outputStreams = outputStreams
    }

    public func contexts() async -> [ContextID] {
        (try? await client.contexts().map(\.id)) ?? []
    }

    public func updates(for context: ContextID) -> AsyncStream<ConsoleUpdate> {
        let (stream, continuation) = AsyncStream<ConsoleUpdate>.makeStream(bufferingPolicy: .unbounded)
        let client = client
        let logger = logger
        let limit = outputStreams
        let task = Task {
            await Self.follow(context, client: client, logger: logger, outputLimit: limit, into: continuation)
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private static func follow(
        _ context: ContextID,
        client: OperatorClient,
        logger: Logger,
        outputLimit: Int,
        into continuation: AsyncStream<ConsoleUpdate>.Continuation
    ) async {
        let outputs = OutputFollowers(client: client, context: context, limit: outputLimit, continuation: continuation)
        var attempt = 0
        var since = Date()
        while !Task.isCancelled {
            do {
                let snapshot = try await client.snapshot(of: context)
                guard let picture = snapshot.contexts.first else { return }
                continuation.yield(.snapshot(picture))
                continuation.yield(.connection(.connected))
                attempt = 0
                for node in picture.nodes where [.configuring, .ok, .failed].contains(node.state) { await outputs.follow(node.name) }
                for try await element in client.events(context: context, after: snapshot.sequence) {
                    switch element {
                    case .event(let event):
                        continuation.yield(.events([event]))
                        if case .nodeState(let transition) = event.change, transition.to == .configuring {
                            await outputs.follow(transition.node)
                        }
                        if case .nodeState(let transition) = event.change, transition.to == .launching {
                            // A retried node starts a new output history.
                            await outputs.restart(transition.node)
                        }
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
                if Task.isCancelled { break }
                attempt += 1
                if attempt == 1 { since = Date() }
                logger.debug("console feed lost the broker", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                continuation.yield(.connection(.reconnecting(attempt: attempt, since: since, reason: "\(error)")))
                try? await Task.sleep(for: .milliseconds(min(5_000, 250 * (1 << min(attempt, 5)))))
            }
        }
        await outputs.stopAll()
    }
}

/// Follows the output streams of released nodes, at most `limit` at once, and forwards their lines.
private actor OutputFollowers {
    private let client: OperatorClient
    private let context: ContextID
    private let limit: Int
    private let continuation: AsyncStream<ConsoleUpdate>.Continuation
    private var tasks: [String: Task<Void, Never>] = [:]
    private var order: [String] = []

    init(client: OperatorClient, context: ContextID, limit: Int, continuation: AsyncStream<ConsoleUpdate>.Continuation) {
        self.client = client
        self.context = context
        self.limit = limit
        self.continuation = continuation
    }

    func follow(_ node: String) {
        guard tasks[node] == nil else { return }
        if order.count >= limit, let oldest = order.first {
            tasks.removeValue(forKey: oldest)?.cancel()
            order.removeFirst()
        }
        let client = client
        let context = context
        let continuation = continuation
        tasks[node] = Task {
            do {
                for try await element in client.outputStream(of: node, in: context) {
                    if case .line(let line) = element { continuation.yield(.output(node: node, lines: [line])) }
                }
            } catch {
                // The stream ends with the node's generation or the connection; the next follow restarts it.
            }
        }
        order.append(node)
    }

    func restart(_ node: String) {
        tasks.removeValue(forKey: node)?.cancel()
        order.removeAll { $0 == node }
    }

    func stopAll() {
        for task in tasks.values { task.cancel() }
        tasks = [:]
        order = []
    }
}

/// The console's operator actions over `MusterClient`.
public struct ClientConsoleActions: ConsoleActions {
    private let client: OperatorClient

    /// Creates the actions over an operator client.
    public init(client: OperatorClient) {
        self.client = client
    }

    public func launch(documentAt path: String) async throws -> ContextID {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try await client.createContext(document: data, name: name, launch: true).context.id
    }

    public func addNodes(context: ContextID, workspace: String, count: Int) async throws {
        _ = try await client.addNodes(count, to: workspace, in: context, launch: true)
    }

    public func retry(context: ContextID, node: String) async throws {
        _ = try await client.retry(node, in: context)
    }

    public func kill(context: ContextID, node: String) async throws {
        _ = try await client.kill(node, in: context)
    }
}
