import Foundation
import HTTPTypes
import Logging
import MusterCore

/// Followers: the event stream and a node's live output.
extension BrokerState {
    /// Events a follower may hold unread before its stream is closed (it then resumes from its last id).
    static let subscriberBuffer = 50_000

    /// A live subscription: events after `sequence` arrive on `stream`; everything up to `sequence` is in the
    /// store. Subscribing and reading `sequence` happen in one step, so backlog and live events neither overlap
    /// nor leave a gap.
    struct EventSubscription: Sendable {
        var id: UUID
        var sequence: UInt64
        var stream: AsyncStream<ContextEvent>
    }

    func subscribeEvents(context: ContextID?) throws(BrokerError) -> EventSubscription {
        guard !isShuttingDown else { throw BrokerError.unavailable("the broker is shutting down") }
        if let context, engine.contexts[context] == nil {
            throw BrokerError(.notFound, code: "unknown-context", "no context with id '\(context)'")
        }
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: ContextEvent.self, bufferingPolicy: .bufferingOldest(Self.subscriberBuffer))
        eventSubscribers[id] = EventSubscriber(context: context, continuation: continuation)
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribeEvents(id) }
        }
        return EventSubscription(id: id, sequence: engine.lastSequence, stream: stream)
    }

    func unsubscribeEvents(_ id: UUID) {
        eventSubscribers[id]?.continuation.finish()
        eventSubscribers[id] = nil
    }

    /// A live subscription to a node's output: lines from index `next` on arrive on `stream`; lines before it
    /// are in the store.
    struct OutputSubscription: Sendable {
        var id: UUID
        var next: Int
        var generation: Int
        var stream: AsyncStream<OutputLine>
    }

    func subscribeOutput(_ key: NodeKey) throws(BrokerError) -> OutputSubscription {
        guard !isShuttingDown else { throw BrokerError.unavailable("the broker is shutting down") }
        let node = try node(key)
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: OutputLine.self, bufferingPolicy: .bufferingOldest(Self.subscriberBuffer))
        outputSubscribers[key, default: [:]][id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribeOutput(key, id: id) }
        }
        return OutputSubscription(id: id, next: outputCounts[key] ?? 0, generation: node.generation, stream: stream)
    }

    func unsubscribeOutput(_ key: NodeKey, id: UUID) {
        outputSubscribers[key]?[id]?.finish()
        outputSubscribers[key]?[id] = nil
        if outputSubscribers[key]?.isEmpty == true { outputSubscribers[key] = nil }
    }
}
