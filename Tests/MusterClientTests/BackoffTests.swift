import MusterClient
import Testing

@Suite("Back-off")
struct BackoffTests {
    static let policy = RetryPolicy(maximumAttempts: nil, baseDelay: .milliseconds(100), maximumDelay: .seconds(1), jitter: 0)

    @Test func `each failure in a row doubles the wait, up to the policy's longest`() {
        var backoff = Backoff(policy: Self.policy)
        let delays = (1...6).compactMap { _ in backoff.failed() }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        #expect(backoff.failures == 6)
    }

    @Test func `a success makes the next failure wait the shortest time again`() {
        var backoff = Backoff(policy: Self.policy)
        for _ in 1...5 { _ = backoff.failed() }
        backoff.succeeded()
        #expect(backoff.failures == 0)
        #expect(backoff.failed() == .milliseconds(100))
    }

    @Test func `when the policy's tries run out there is no next wait`() {
        var backoff = Backoff(policy: RetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(100), maximumDelay: .seconds(1), jitter: 0))
        #expect(backoff.failed() != nil)
        #expect(backoff.failed() != nil)
        #expect(backoff.failed() == nil)
    }

    @Test func `jitter shortens a wait by up to its share, never lengthens it`() {
        var short = Backoff(policy: RetryPolicy(maximumAttempts: nil, baseDelay: .seconds(1), maximumDelay: .seconds(1), jitter: 0.5))
        var long = short
        #expect(short.failed(unitRandom: 0.999_999) ?? .zero >= .milliseconds(500))
        #expect(long.failed(unitRandom: 0) == .seconds(1))
    }
}
