/// The waits between tries of one thing that keeps failing (a stream reconnecting, an agent's delivery), by a
/// ``RetryPolicy``, starting over after every success.
///
/// A back-off that is not reset after a success makes the next outage start at the longest wait: a client that
/// lost the broker once then notices its return seconds late every time after. ``succeeded()`` forgets every
/// failure, so the first retry after any success waits only ``RetryPolicy/baseDelay``.
///
/// ```swift
/// var backoff = Backoff(policy: .streams)
/// while true {
///     do {
///         try await connect()
///         backoff.succeeded()
///     } catch {
///         guard let delay = backoff.failed() else { throw error }
///         try await Task.sleep(for: delay)
///     }
/// }
/// ```
public struct Backoff: Sendable, Hashable {
    /// How long to wait, and how many tries to make.
    public let policy: RetryPolicy
    /// Failures since the last success (0 after a success).
    public private(set) var failures: Int

    /// A back-off that has seen no failure yet.
    public init(policy: RetryPolicy) {
        self.policy = policy
        self.failures = 0
    }

    /// Notes a failed try; returns the wait before the next one, or `nil` when the policy allows no more tries.
    ///
    /// - Parameter unitRandom: A number in 0..<1 that picks the jitter (tests pass a fixed one).
    public mutating func failed(unitRandom: Double = Double.random(in: 0..<1)) -> Duration? {
        failures += 1
        guard policy.allowsAnotherAttempt(after: failures) else { return nil }
        return policy.delay(beforeRetry: failures, unitRandom: unitRandom)
    }

    /// Notes a success: the next failure waits only the policy's base delay again.
    public mutating func succeeded() {
        failures = 0
    }
}
