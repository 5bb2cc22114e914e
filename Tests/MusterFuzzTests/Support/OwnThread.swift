import Foundation

/// Runs CPU-bound synchronous work on a thread of its own and awaits its result.
///
/// A synchronous test body runs on one of the cooperative pool's threads, and the pool has one thread per core: on
/// the two-core CI machine, two fuzz runs of a minute each left every other test in the process — and the brokers,
/// clients and timers they run on that pool — without a thread for that minute. On its own thread the work competes
/// for the CPU like any other thread, and the pool stays free.
func onOwnThread<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
