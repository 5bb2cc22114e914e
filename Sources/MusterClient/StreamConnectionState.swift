/// What an ``EventStream`` or ``OutputLineStream`` reports about its connection, in between the items it delivers,
/// so that a console can show a banner while the picture may be stale, and a CLI can say "reconnected".
///
/// A stream reports, in order:
/// 1. ``connected`` once the broker has accepted the stream for the first time;
/// 2. ``lost(reason:)`` when an open stream breaks (the broker restarted, the network dropped, no heartbeat came
///    within ``BrokerConfiguration/Timeouts/streamIdle``);
/// 3. ``reconnecting(attempt:delay:reason:)`` before each try to connect again (also when the very first try
///    fails);
/// 4. ``reconnected(attempts:downtime:)`` when a try succeeds after the stream had been connected before (or
///    ``connected`` when it never had been), and the items carry on from where they stopped.
///
/// After every successful connection the stream's back-off starts over (see ``Backoff``): the first try after the
/// next outage waits only ``RetryPolicy/baseDelay``.
public enum StreamConnectionState: Sendable, Hashable, CustomStringConvertible {
    /// The stream is open for the first time: what follows is live.
    case connected
    /// The open stream broke, for `reason`; reconnecting follows (unless the reconnect policy allows no retry).
    case lost(reason: String)
    /// Try number `attempt` (from 1) to reconnect starts after `delay`; `reason` says why the last try failed (or
    /// why the stream was lost).
    case reconnecting(attempt: Int, delay: Duration, reason: String)
    /// The stream is open again after it was lost: it took `attempts` tries, and it was away for `downtime` (from
    /// the moment it was lost to the moment it was back). Items missed meanwhile follow, without gap or repeat.
    case reconnected(attempts: Int, downtime: Duration)

    /// Whether items may be missing from the picture until the stream is connected again.
    public var isInterrupted: Bool {
        switch self {
        case .connected, .reconnected: false
        case .lost, .reconnecting: true
        }
    }

    /// A line for a status bar, such as `reconnecting (attempt 3 in 1.2 s): connection refused` or
    /// `reconnected after 31.4 s (12 attempts)`.
    public var description: String {
        switch self {
        case .connected: "connected"
        case .lost(let reason): "connection lost: \(reason)"
        case .reconnecting(let attempt, let delay, let reason):
            "reconnecting (attempt \(attempt) in \(Self.tenths(delay)) s): \(reason)"
        case .reconnected(let attempts, let downtime):
            "reconnected after \(Self.tenths(downtime)) s (\(attempts) attempt\(attempts == 1 ? "" : "s"))"
        }
    }

    private static func tenths(_ duration: Duration) -> Double { (duration.seconds * 10).rounded() / 10 }
}
