import Synchronization
import Testing

@testable import MusterBroker

/// Handing freed memory back: in the background, one trim at a time, requests made meanwhile folded into one more.
@Suite("Freed memory handed back")
struct FreeMemoryTests {
    /// Waits (bounded) until `trimmer` has completed `count` trims.
    private func waitForRuns(_ count: Int, of trimmer: FreeMemory) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while trimmer.completed < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        try #require(trimmer.completed == count)
    }

    @Test func `requests made while a trim runs make it run once more, not once each`() async throws {
        let calls = Mutex(0)
        let holder = Mutex<FreeMemory?>(nil)
        let trimmer = FreeMemory {
            let call = calls.withLock {
                $0 += 1
                return $0
            }
            // Ten more requests from inside the first trim, while it runs.
            if call == 1 { for _ in 0..<10 { holder.withLock { $0 }?.returnToSystem() } }
        }
        holder.withLock { $0 = trimmer }
        trimmer.returnToSystem()
        try await waitForRuns(2, of: trimmer)
        #expect(calls.withLock { $0 } == 2)
    }

    @Test func `a request after a trim has ended starts another`() async throws {
        let calls = Mutex(0)
        let trimmer = FreeMemory { calls.withLock { $0 += 1 } }
        trimmer.returnToSystem()
        try await waitForRuns(1, of: trimmer)
        trimmer.returnToSystem()
        try await waitForRuns(2, of: trimmer)
        #expect(calls.withLock { $0 } == 2)
    }
}
