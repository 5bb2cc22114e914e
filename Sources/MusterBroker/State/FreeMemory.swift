import MusterSystem
import Synchronization

/// Gives memory freed by the allocator back to the system.
///
/// glibc keeps freed memory in per-thread arenas; after many streams or connections end (each held buffers on
/// its own event loop thread), the broker's resident size would stay at its peak although nothing uses that
/// memory. (`malloc_trim` is glibc's, looked up at run time: the C library module does not declare it, and other
/// C libraries lack it.)
///
/// The trim runs in the background, one at a time: it walks every arena holding that arena's lock, 100–165 ms on
/// the heap 10,000 closed connections leave (measured with a uprobe), so it must not run on the state actor, and
/// two at once would only contend for the same locks. A request made while one runs makes it run once more
/// when it ends.
final class FreeMemory: Sendable {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trim: Trim? = CLibrarySymbol.address("malloc_trim").map { unsafeBitCast($0, to: Trim.self) }

    /// The process's one trimmer.
    static let shared = FreeMemory { _ = trim?(0) }

    private struct State {
        var runs = CoalescedRuns()
        var completed = 0
    }

    private let state = Mutex(State())
    private let body: @Sendable () -> Void

    /// A trimmer that runs `body` (``shared`` runs `malloc_trim`).
    init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
    }

    /// Trims completed so far.
    var completed: Int { state.withLock { $0.completed } }

    /// Hands freed memory back, in the background.
    func returnToSystem() {
        guard state.withLock({ $0.runs.requested() }) else { return }
        Task.detached(priority: .background) {
            repeat {
                self.body()
            } while self.state.withLock { state in
                state.completed += 1
                return state.runs.ended()
            }
        }
    }
}
