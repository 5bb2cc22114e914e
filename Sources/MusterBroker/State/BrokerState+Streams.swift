import Foundation
import HTTPTypes
import Logging
import MusterCore

/// Followers: the event stream and a node's live output.
///
/// Each follower has a bounded queue of encoded messages (``BrokerLimits/streamBuffer``). A change is encoded once
/// and the same bytes go to every follower. A follower whose queue is full (it reads more slowly than changes
/// come) is dropped: its queue ends and its connection is closed at once, so a reader that never reads holds no
/// more than its queue and its socket's buffers; it reconnects with `Last-Event-ID` and misses nothing. One token
/// may hold at most ``BrokerLimits/maxStreamsPerToken`` streams.
extension BrokerState {
    /// One follower.
    struct StreamSubscriber {
        /// Who opened it (streams are counted per token).
        var owner: TokenOwner
        /// For event streams: only this context's events, or every context's.
        var context: ContextID?
        var continuation: AsyncStream<StreamItem>.Continuation
        /// The follower's connection (closed when it is dropped for falling behind).
        var connection: StreamConnection
    }

    /// A live subscription: events after `sequence` arrive on `stream`; everything up to `sequence` is in the
    /// store. Subscribing and reading `sequence` happen in one step, so backlog and live events neither overlap
    /// nor leave a gap.
    struct EventSubscription: Sendable {
        var id: UUID
        var sequence: UInt64
        var stream: AsyncStream<StreamItem>
    }

    func subscribeEvents(
        context: ContextID?,
        owner: TokenOwner,
        heartbeat: Duration,
        connection: StreamConnection
    ) throws(BrokerError) -> EventSubscription {
        guard !isShuttingDown else { throw BrokerError.unavailable("the broker is shutting down") }
        if let context, engine.contexts[context] == nil {
            throw BrokerError(.notFound, code: "unknown-context", "no context with id '\(context)'")
        }
        try admitStream(owner)
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: StreamItem.self, bufferingPolicy: .bufferingOldest(limits.streamBuffer))
        eventSubscribers[id] = StreamSubscriber(owner: owner, context: context, continuation: continuation, connection: connection)
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribeEvents(id) }
        }
        connection.whenClosed { continuation.finish() }
        startHeartbeats(every: heartbeat)
        return EventSubscription(id: id, sequence: engine.lastSequence, stream: stream)
    }

    func unsubscribeEvents(_ id: UUID) {
        guard let subscriber = eventSubscribers.removeValue(forKey: id) else { return }
        subscriber.continuation.finish()
        releaseStream(subscriber.owner)
    }

    /// A live subscription to a node's output: lines from index `next` on arrive on `stream`; lines before it
    /// are in the store.
    struct OutputSubscription: Sendable {
        var id: UUID
        var next: Int
        var generation: Int
        var stream: AsyncStream<StreamItem>
    }

    func subscribeOutput(
        _ key: NodeKey,
        owner: TokenOwner,
        heartbeat: Duration,
        connection: StreamConnection
    ) throws(BrokerError) -> OutputSubscription {
        guard !isShuttingDown else { throw BrokerError.unavailable("the broker is shutting down") }
        let node = try node(key)
        try admitStream(owner)
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: StreamItem.self, bufferingPolicy: .bufferingOldest(limits.streamBuffer))
        outputSubscribers[key, default: [:]][id] = StreamSubscriber(
            owner: owner,
            context: key.context,
            continuation: continuation,
            connection: connection
        )
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribeOutput(key, id: id) }
        }
        connection.whenClosed { continuation.finish() }
        startHeartbeats(every: heartbeat)
        return OutputSubscription(id: id, next: outputs[key]?.next ?? 0, generation: node.generation, stream: stream)
    }

    func unsubscribeOutput(_ key: NodeKey, id: UUID) {
        guard let subscriber = outputSubscribers[key]?.removeValue(forKey: id) else { return }
        if outputSubscribers[key]?.isEmpty == true { outputSubscribers[key] = nil }
        subscriber.continuation.finish()
        releaseStream(subscriber.owner)
    }

    // MARK: Caps

    private func admitStream(_ owner: TokenOwner) throws(BrokerError) {
        let open = streamsByOwner[owner] ?? 0
        guard open < limits.maxStreamsPerToken else {
            counters.streamsRefused += 1
            throw BrokerError(
                .tooManyRequests,
                code: "too-many-streams",
                "this token already has \(open) event or output streams open (at most \(limits.maxStreamsPerToken)); close one and try again"
            )
        }
        streamsByOwner[owner] = open + 1
    }

    private func releaseStream(_ owner: TokenOwner) {
        guard let open = streamsByOwner[owner] else { return }
        streamsByOwner[owner] = open > 1 ? open - 1 : nil
        if streamsByOwner.isEmpty { FreeMemory.shared.returnToSystem() }
    }

    // MARK: Publishing

    /// Hands one item to a follower; a follower whose queue is full is dropped (and told so by its connection
    /// closing). Returns whether it is still subscribed.
    func deliver(_ item: StreamItem, to subscriber: StreamSubscriber) -> Bool {
        switch subscriber.continuation.yield(item) {
        case .enqueued: return true
        case .dropped:
            counters.streamsDropped += 1
            logger.info("dropped a stream that fell behind; it resumes from its last id", metadata: ["buffer": "\(limits.streamBuffer)"])
            subscriber.continuation.finish()
            subscriber.connection.close()
            return false
        case .terminated: return false
        @unknown default: return false
        }
    }

    /// Sends committed events to the event followers that want them, each encoded once; a follower gets all of
    /// one commit's events (those of its context, or all of them) as one frame, in one write.
    func publishEvents(_ events: [ContextEvent]) {
        guard !events.isEmpty, !eventSubscribers.isEmpty else { return }
        var frames: [(context: ContextID, frame: StreamFrame)] = []
        frames.reserveCapacity(events.count)
        for event in events {
            guard let frame = try? StreamFrame.event(event) else {
                logger.error("could not encode an event for followers", metadata: ["sequence": "\(event.sequence)"])
                continue
            }
            frames.append((event.context, frame))
        }
        let all = StreamFrame.joined(frames.map(\.frame))
        var byContext: [ContextID: StreamFrame] = [:]
        for (id, subscriber) in eventSubscribers {
            let frame: StreamFrame?
            if let context = subscriber.context {
                if let joined = byContext[context] {
                    frame = joined
                } else {
                    frame = StreamFrame.joined(frames.filter { $0.context == context }.map(\.frame))
                    byContext[context] = frame
                }
            } else {
                frame = all
            }
            guard let frame else { continue }
            if !deliver(.frame(frame), to: subscriber) {
                eventSubscribers[id] = nil
                releaseStream(subscriber.owner)
            }
        }
    }

    /// Sends stored output lines to the node's output followers, encoded once, as one frame.
    func publishOutput(_ lines: [OutputLine], of key: NodeKey) {
        guard let subscribers = outputSubscribers[key], !subscribers.isEmpty, !lines.isEmpty else { return }
        let encoder = WireFormat.encoder()
        guard let frame = StreamFrame.joined(lines.compactMap { try? StreamFrame.output($0, encoder: encoder) }) else { return }
        for (id, subscriber) in subscribers where !deliver(.frame(frame), to: subscriber) {
            outputSubscribers[key]?[id] = nil
            releaseStream(subscriber.owner)
        }
        if outputSubscribers[key]?.isEmpty == true { outputSubscribers[key] = nil }
    }

    /// Ends every output stream of a node (a retry starts a new output history: followers start again from 0).
    func endOutputStreams(of key: NodeKey) {
        for subscriber in outputSubscribers.removeValue(forKey: key)?.values ?? [:].values {
            subscriber.continuation.finish()
            releaseStream(subscriber.owner)
        }
    }

    // MARK: Heartbeats

    /// One timer for every stream: each gets a heartbeat tick every `interval`, which keeps proxies from
    /// closing an idle stream and lets the broker notice a follower that went away.
    private func startHeartbeats(every interval: Duration) {
        guard heartbeatTask == nil else { return }
        heartbeatTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                await self.beat()
            }
        }
    }

    private func beat() {
        for (id, subscriber) in eventSubscribers where !deliver(.heartbeat, to: subscriber) {
            eventSubscribers[id] = nil
            releaseStream(subscriber.owner)
        }
        for (key, subscribers) in outputSubscribers {
            for (id, subscriber) in subscribers where !deliver(.heartbeat, to: subscriber) {
                outputSubscribers[key]?[id] = nil
                releaseStream(subscriber.owner)
            }
            if outputSubscribers[key]?.isEmpty == true { outputSubscribers[key] = nil }
        }
    }

    /// Closes every stream (shutdown).
    func endAllStreams() {
        heartbeatTask?.cancel()
        heartbeatTask = nil
        for subscriber in eventSubscribers.values { subscriber.continuation.finish() }
        eventSubscribers = [:]
        for subscribers in outputSubscribers.values {
            for subscriber in subscribers.values { subscriber.continuation.finish() }
        }
        outputSubscribers = [:]
        streamsByOwner = [:]
    }
}
