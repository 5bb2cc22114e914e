import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Every open connection, so that connections cannot starve the broker: at most ``maxConnections`` at once, and
/// when one more arrives the connection idle for longest (no request in progress) is closed to make room.
///
/// A client that opens connections and sends nothing therefore cannot lock others out: new connections keep
/// being accepted (the oldest idle ones go), and a connection that never sends a request head is closed after
/// the header timeout anyway. Connections busy with a request (a long-poll, an event stream) are never shed;
/// when every connection is busy, a new one is closed at once.
final class ConnectionLimiter: Sendable {
    /// The most connections open at once.
    let maxConnections: Int

    private struct Entry {
        var channel: any Channel
        var busy: Bool
        /// When it last finished a request (or opened); the oldest is shed first.
        var idleSince: ContinuousClock.Instant
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var counts = Counts()
        /// The most connections open at once since memory was last handed back.
        var peak = 0
    }

    /// The fewest connections at a peak for their closing to hand memory back (see ``close(_:)``).
    static let burstToReturn = 1024

    /// What the limiter did, for `/metrics`.
    struct Counts: Sendable, Hashable {
        /// Connections open now.
        var open = 0
        /// Idle connections closed to make room for a new one.
        var shed = 0
        /// New connections closed because every open one was busy.
        var refused = 0
        /// Connections closed for not sending a request head in time.
        var headerTimeouts = 0
        /// Times freed memory was handed back to the system after a burst of connections closed.
        var memoryReturns = 0
    }

    private let state = Mutex(State())

    init(maxConnections: Int) {
        self.maxConnections = max(1, maxConnections)
    }

    /// What happens to a new connection.
    enum Admission {
        /// It may stay, with this id; `evict` is a connection to close to make room.
        case admitted(id: UInt64, evict: (any Channel)?)
        /// Every connection is busy: close it.
        case refused
    }

    func open(_ channel: any Channel) -> Admission {
        state.withLock { state in
            var evict: (any Channel)?
            if state.entries.count >= maxConnections {
                let oldest = state.entries.filter { !$0.value.busy }.min { $0.value.idleSince < $1.value.idleSince }
                guard let oldest else {
                    state.counts.refused += 1
                    return .refused
                }
                state.entries[oldest.key] = nil
                state.counts.shed += 1
                evict = oldest.value.channel
            }
            state.nextID += 1
            state.entries[state.nextID] = Entry(channel: channel, busy: false, idleSince: .now)
            state.counts.open = state.entries.count
            state.peak = max(state.peak, state.entries.count)
            return .admitted(id: state.nextID, evict: evict)
        }
    }

    /// Forgets a closed connection. When a burst of at least ``burstToReturn`` connections has come down to a
    /// quarter, the memory they held is handed back to the system (``FreeMemory``), off the event loop: each
    /// connection keeps 14–23 KB (its task's frames, the channel, buffers), and without this a broker that booted
    /// 10,000 agents kept their 250 MB after they left.
    func close(_ id: UInt64) {
        let burstEnded = state.withLock { state in
            state.entries[id] = nil
            state.counts.open = state.entries.count
            guard state.peak >= Self.burstToReturn, state.entries.count <= state.peak / 4 else { return false }
            state.peak = state.entries.count
            state.counts.memoryReturns += 1
            return true
        }
        if burstEnded { FreeMemory.shared.returnToSystem() }
    }

    func setBusy(_ id: UInt64, _ busy: Bool) {
        state.withLock { state in
            state.entries[id]?.busy = busy
            if !busy { state.entries[id]?.idleSince = .now }
        }
    }

    func headerTimedOut() {
        state.withLock { $0.counts.headerTimeouts += 1 }
    }

    var counts: Counts { state.withLock { $0.counts } }
}

/// One connection's guard in its channel pipeline (after HTTP decoding): registers it with the
/// ``ConnectionLimiter``, tells it when a request is in progress, and closes the connection if its first request
/// head does not arrive within the header timeout. (Between requests, Hummingbird's idle timeout applies.)
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limiter: ConnectionLimiter
    private let headerTimeout: TimeAmount
    private var id: UInt64?
    private var headerTimer: Scheduled<Void>?
    private var inProgress = 0
    private var registered = false

    init(limiter: ConnectionLimiter, headerTimeout: TimeAmount) {
        self.limiter = limiter
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { register(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        register(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        unregister()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        unregister()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            headerTimer?.cancel()
            headerTimer = nil
            inProgress += 1
            if inProgress == 1, let id { limiter.setBusy(id, true) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), inProgress > 0 {
            inProgress -= 1
            if inProgress == 0, let id { limiter.setBusy(id, false) }
        }
        context.write(data, promise: promise)
    }

    private func register(_ context: ChannelHandlerContext) {
        guard !registered else { return }
        registered = true
        switch limiter.open(context.channel) {
        case .refused:
            context.close(promise: nil)
        case .admitted(let id, let evict):
            self.id = id
            evict?.close(promise: nil)
            let limiter = limiter
            let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            headerTimer = context.eventLoop.scheduleTask(in: headerTimeout) {
                limiter.headerTimedOut()
                loopContext.value.close(promise: nil)
            }
        }
    }

    private func unregister() {
        headerTimer?.cancel()
        headerTimer = nil
        if let id {
            limiter.close(id)
            self.id = nil
        }
    }
}
