/// What an ``EventStream`` or ``OutputLineStream`` reports about its connection, in between the items it delivers,
/// so that a console can show a banner while the picture may be stale.
///
/// A stream reports, in order:
/// 1. ``connected`` once the broker has accepted the stream (again after every reconnect);
/// 2. ``lost(reason:)`` when an open stream breaks (the broker restarted, the network dropped, no heartbeat came
///    within ``BrokerConfiguration/Timeouts/streamIdle``);
/// 3. ``reconnecting(attempt:delay:reason:)`` before each try to connect again (also when the very first try
///    fails), then ``connected`` when one succeeds, and the items carry on from where they stopped.
public enum StreamConnectionState: Sendable, Hashable, CustomStringConvertible {
    /// The stream is open: what follows is live.
    case connected
    /// The open stream broke, for `reason`; reconnecting follows (unless the reconnect policy allows no retry).
    case lost(reason: String)
    /// Try number `attempt` (from 1) to reconnect starts after `delay`; `reason` says why the last try failed (or
    /// why the stream was lost).
    case reconnecting(attempt: Int, delay: Duration, reason: String)

    /// Whether items may be missing from the picture until the stream is connected again.
    public var isInterrupted: Bool {
        switch self {
        case .connected: false
        case .lost, .reconnecting: true
        }
    }

    /// A line for a status bar, such as `reconnecting (attempt 3 in 1.2 s): connection refused`.
    public var description: String {
        switch self {
        case .connected: "connected"
        case .lost(let reason): "connection lost: \(reason)"
        case .reconnecting(let attempt, let delay, let reason):
            "reconnecting (attempt \(attempt) in \((delay.seconds * 10).rounded() / 10) s): \(reason)"
        }
    }
}
