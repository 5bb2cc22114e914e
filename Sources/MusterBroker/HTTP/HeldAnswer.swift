import Synchronization

/// A long-poll a route has accepted but not yet answered: the node, and the wake-up the state fires (with the
/// answer) when there is news or the wait has passed; the wake holds the answer version the node has.
///
/// The route (authenticated, its parameters read) only records it; ``BrokerResponder`` then waits for the answer
/// at the top of the request, once the router's frames have returned. A connection's task keeps the memory of
/// its deepest call for the rest of its life, so a held connection costs what the wait needs, not what routing
/// needed.
struct HeldAnswer: Sendable {
    /// The node that asked (verified by its token).
    var node: NodeKey
    /// Fired when the node's answer is to be read.
    var wake: AnswerWake
}

/// Where a route leaves its ``HeldAnswer`` for ``BrokerResponder``: one per request, shared by the request's
/// contexts (the router's and the authenticated group's).
final class HeldAnswerSlot: Sendable {
    private let held = Mutex<HeldAnswer?>(nil)

    /// Leaves `answer` to be waited for once the route returns.
    func hold(_ answer: HeldAnswer) { held.withLock { $0 = answer } }

    /// Whether a route left an answer to wait for.
    var isHolding: Bool { held.withLock { $0 != nil } }

    /// The held answer, if a route left one; the slot is empty afterwards.
    func take() -> HeldAnswer? { held.withLock { $0.take() } }
}
