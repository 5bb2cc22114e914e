/// How often, and how patiently, the client tries again: jittered exponential backoff.
///
/// Attempt *n* (from 1 for the first *retry*) waits `min(maximumDelay, baseDelay × 2ⁿ⁻¹)`, less a random share
/// of up to ``jitter`` of it, so that many clients that lost the broker at the same moment do not all come back at
/// the same moment.
///
/// Which calls are retried at all is decided per call (see ``BrokerConnection``): reads and the agent calls the
/// broker deduplicates are retried on transport errors and on 429, 502, 503 and 504; operator actions only when the
/// request provably never reached the broker.
public struct RetryPolicy: Sendable, Hashable {
    /// How many times a call is tried in all, the first time included; `nil` for no limit (only sensible for
    /// event streams, which a console follows for as long as it runs). `1` means: never retry.
    public var maximumAttempts: Int?
    /// The wait before the first retry.
    public var baseDelay: Duration
    /// The longest wait between two tries.
    public var maximumDelay: Duration
    /// The share (0…1) of each wait that is random: `0.5` waits between half and all of the computed delay.
    public var jitter: Double

    /// Creates a policy.
    public init(maximumAttempts: Int?, baseDelay: Duration, maximumDelay: Duration, jitter: Double = 0.5) {
        self.maximumAttempts = maximumAttempts.map { max(1, $0) }
        self.baseDelay = baseDelay
        self.maximumDelay = max(baseDelay, maximumDelay)
        self.jitter = min(1, max(0, jitter))
    }

    /// For calls: 4 tries over about 1.5 s (0.1 s, 0.2 s, 0.4 s before the 2nd, 3rd, 4th), then the error.
    public static let calls = RetryPolicy(maximumAttempts: 4, baseDelay: .milliseconds(100), maximumDelay: .seconds(2))

    /// For event and output streams: reconnect for ever, from 0.25 s up to 2 s between tries.
    ///
    /// The longest wait is short because it is also how late a follower notices that the broker is back (a
    /// `muster up` reporting completion, a console clearing its banner); a refused connection costs the broker
    /// next to nothing. ``Backoff`` starts over after every successful connection.
    public static let streams = RetryPolicy(maximumAttempts: nil, baseDelay: .milliseconds(250), maximumDelay: .seconds(2))

    /// For an agent's calls, which it makes for as long as its node lives: for ever, from 0.1 s up to 2 s between
    /// tries, so that an agent is back within about 2 s of its broker (and many agents come back spread over that
    /// time, not all at once).
    public static let agent = RetryPolicy(maximumAttempts: nil, baseDelay: .milliseconds(100), maximumDelay: .seconds(2), jitter: 0.5)

    /// Never retry.
    public static let never = RetryPolicy(maximumAttempts: 1, baseDelay: .zero, maximumDelay: .zero, jitter: 0)

    /// Whether another try may follow try number `attempt` (from 1).
    public func allowsAnotherAttempt(after attempt: Int) -> Bool {
        maximumAttempts.map { attempt < $0 } ?? true
    }

    /// The wait before retry number `retry` (from 1), with `unitRandom` (in 0..<1) choosing the jitter.
    public func delay(beforeRetry retry: Int, unitRandom: Double) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        var delay = baseDelay * (1 << exponent)
        if delay > maximumDelay || delay < .zero { delay = maximumDelay }
        let share = 1 - jitter * min(max(unitRandom, 0), 1)
        return delay * share
    }

    /// The wait before retry number `retry` (from 1), with system randomness for the jitter.
    public func delay(beforeRetry retry: Int) -> Duration {
        delay(beforeRetry: retry, unitRandom: Double.random(in: 0..<1))
    }
}
