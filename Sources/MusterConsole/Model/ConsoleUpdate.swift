import MusterCore

/// A piece of news for the console from its data feed (the broker client), applied by ``ConsoleModel``.
public enum ConsoleUpdate: Sendable, Hashable {
    /// A consistent picture of the context; replaces what the console knew (output lines of nodes that still
    /// exist are kept).
    case snapshot(ContextSnapshot)
    /// Events in sequence order. Events the snapshot already included are history: they only tell when each
    /// node was launched, checked in and finished (for the timeline) and fill the event log.
    case events([ContextEvent])
    /// New lines of one attempt (slot generation) of a node's script output, in index order; lines already
    /// seen are ignored.
    case output(node: String, attempt: Int, lines: [OutputLine])
    /// The connection to the broker changed.
    case connection(ConnectionState)
    /// The contexts the broker knows, with their status (the contexts view, `:context` completion).
    case contexts([ContextSummary])
    /// Which broker address answers, and, for replicas sharing a store, which replica and the store kind.
    case broker(address: String, replica: String?)
    /// Who starts the broker's nodes (`GET /v1/healthz`): the broker itself, or launchers outside it.
    case launcher(BrokerLauncher)
}

/// Who starts a broker's nodes, as the broker tells (the contexts view's LAUNCHER column). The broker does not
/// record a launcher per context: every context of a broker is launched the same way.
public enum BrokerLauncher: String, Sendable, Hashable {
    /// The broker starts nodes itself (`muster up`'s embedded broker, with the local or EC2 launcher).
    case broker
    /// The broker leaves its nodes to launchers outside it that claim them (`muster up --broker`, `muster ec2script`).
    case external
}
