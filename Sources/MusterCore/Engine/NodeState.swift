/// Where a node is in its life, as the console shows it.
///
/// `pending` → `launching` → `booted` → `registered` → `waiting` → `configuring` → `ok` | `failed` | `killed` |
/// `timedOut`. Retry puts a failed, killed or timed-out node back to `launching` in the same slot.
public enum NodeState: String, Sendable, Hashable, Codable, CodingKeyRepresentable, CaseIterable, Comparable {
    /// The slot exists; nothing has been started for it.
    case pending
    /// The launcher was asked to start the node.
    case launching
    /// The node's process or VM is up; its agent has not checked in yet.
    case booted
    /// The agent reported the node's identity (momentary: the node then waits or is released).
    case registered
    /// Registered, but not every provider it requires is present yet.
    case waiting
    /// Released: the node has its answer and is running its scripts.
    case configuring
    /// Every script finished OK.
    case ok
    /// A script or the launcher failed; see the exit code and message.
    case failed
    /// The operator (or the end of the context) stopped the node.
    case killed
    /// The node did not finish within its context's deadline.
    case timedOut = "timed-out"

    /// Whether the node has finished, for better or worse; a context is complete when every node has.
    public var isTerminal: Bool {
        switch self {
        case .ok, .failed, .killed, .timedOut: true
        default: false
        }
    }

    /// Whether this is an error outcome (counts toward a context's `errorPresent`).
    public var isError: Bool { self == .failed || self == .timedOut }

    /// Whether a retry may start the node again from this state.
    public var isRetryable: Bool { self == .failed || self == .killed || self == .timedOut }

    /// Whether its slot may be removed: nothing runs for it (never launched, or ended without success).
    public var isRemovable: Bool { self == .pending || isRetryable }

    public static func < (lhs: NodeState, rhs: NodeState) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The exit codes a node can end with, kept from Nimbus's context agent (1–4) plus Muster's own.
public enum NodeExitCode {
    /// Bad input to the agent (for example unreadable userdata).
    public static let input = 1
    /// Bad configuration (for example a data value without a `3-data` folder).
    public static let configuration = 2
    /// The node's environment is not usable (for example the host key cannot be written).
    public static let environment = 3
    /// A ctx-script failed, or timed out.
    public static let execution = 4
    /// Muster: the launcher could not start the node.
    public static let launch = 5
    /// Muster: the node did not finish before its context's deadline.
    public static let timeout = 6
}
