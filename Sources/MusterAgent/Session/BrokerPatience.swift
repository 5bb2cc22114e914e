import Logging
import MusterClient

/// How the agent keeps at the broker: a call is tried again for as long as the broker is unreachable or
/// unavailable, with the client's jittered backoff (``RetryPolicy``) and no limit, because a node has nothing
/// better to do than wait for its broker.
enum BrokerPatience {
    /// 0.25 s doubling to 5 s between tries, never giving up.
    static let policy = RetryPolicy(maximumAttempts: nil, baseDelay: .milliseconds(250), maximumDelay: .seconds(5), jitter: 0.4)

    /// Runs `body` until it succeeds, and returns its result; rethrows an error that waiting cannot fix; returns
    /// `nil` if the task is cancelled first. Unreachability is logged on the first try and every tenth. It runs
    /// on the caller's actor, so `body` may use the caller's state.
    static func retryingWhileUnreachable<T>(
        _ what: String,
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> T
    ) async throws -> T? {
        var attempt = 0
        while !Task.isCancelled {
            do {
                return try await body()
            } catch let error as BrokerClientError where error.isTransient {
                attempt += 1
                if attempt == 1 || attempt % 10 == 0 {
                    logger.warning(
                        "broker unreachable; retrying",
                        metadata: ["call": "\(what)", "attempt": "\(attempt)", "error": "\(error.message)"]
                    )
                }
                try? await Task.sleep(for: policy.delay(beforeRetry: attempt))
            }
        }
        return nil
    }
}
