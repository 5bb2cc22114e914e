import MusterCore
import Synchronization

/// The critical chain of one state of a ``ConsoleModel``, computed at most once: the timeline draws it on every
/// frame, and computing it is a pass over every node. A model gets a new memo whenever it changes, so copies that
/// diverge never share a stale chain.
final class CriticalChainMemo: Sendable {
    private let cached = Mutex<CriticalChain??>(nil)

    /// The memoized chain, or `compute()`'s, kept.
    func value(_ compute: () -> CriticalChain?) -> CriticalChain? {
        if let chain = cached.withLock({ $0 }) { return chain }
        let chain = compute()
        cached.withLock { $0 = .some(chain) }
        return chain
    }
}
