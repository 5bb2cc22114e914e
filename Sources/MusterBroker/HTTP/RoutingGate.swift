import Synchronization

/// Bounds how many agents' requests are routed at once; the others wait their turn, in order, before routing.
///
/// A request being routed costs its task some 25 KB (the router's, the middleware's and the handler's frames);
/// one waiting here costs a few hundred bytes. When 10,000 agents check in within a second, the broker would
/// otherwise hold 10,000 routings at once — a quarter of a gigabyte — while it can commit only a few hundred
/// at a time anyway. No route waits for another request to be routed (long-polls are held after routing, by
/// ``BrokerResponder``; streams write after it), so a bounded number cannot deadlock.
final class RoutingGate: Sendable {
    private let queue: Mutex<AdmissionQueue<CheckedContinuation<Void, Never>>>

    /// A gate that routes at most `limit` requests at once.
    init(limit: Int) {
        queue = Mutex(AdmissionQueue(limit: limit))
    }

    /// Requests waiting to be routed now (for `/metrics`).
    var waiting: Int { queue.withLock { $0.waitingCount } }

    /// Waits until admitted; every ``enter()`` is followed by one ``leave()``.
    func enter() async {
        // The common case: room at once, without a continuation.
        if queue.withLock({ $0.admitIfFree() }) { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if queue.withLock({ $0.arrive(continuation) }) { continuation.resume() }
        }
    }

    /// Makes room for the next.
    func leave() {
        queue.withLock { $0.depart() }?.resume()
    }
}
