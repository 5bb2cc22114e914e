import Foundation

/// The console's connection to the broker's event stream.
public enum ConnectionState: Sendable, Hashable {
    /// Connecting for the first time.
    case connecting
    /// Connected: the picture is live.
    case connected
    /// The connection broke at `since`; no attempt to reconnect is running.
    case lost(since: Date, reason: String)
    /// The connection broke at `since`; attempt number `attempt` (from 1) to reconnect is running.
    case reconnecting(attempt: Int, since: Date, reason: String)

    /// Whether the picture on screen may be stale (the header then shows a banner).
    public var isInterrupted: Bool {
        switch self {
        case .lost, .reconnecting: true
        case .connecting, .connected: false
        }
    }
}
