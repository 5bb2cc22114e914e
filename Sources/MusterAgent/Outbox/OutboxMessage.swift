import MusterCore

/// One thing the agent must tell the broker, queued in the ``BrokerOutbox`` in the order it happened.
public enum OutboxMessage: Sendable, Hashable {
    /// `POST …/scripts`: a script (or the built-in host-files step) started.
    case scriptStarted(ScriptRef)
    /// `POST …/scripts`: it finished with this exit code.
    case scriptFinished(ScriptRef, exitCode: Int)
    /// One line for `POST …/output` (consecutive lines travel together).
    case output(OutputLine)
    /// `POST …/report`: the node's final result.
    case report(NodeResult)
}

/// What one request to the broker carries: one message, or a batch of consecutive output lines.
public enum OutboxDelivery: Sendable, Hashable, CustomStringConvertible {
    /// Consecutive output lines, in index order.
    case output([OutputLine])
    /// A script started.
    case scriptStarted(ScriptRef)
    /// A script finished.
    case scriptFinished(ScriptRef, exitCode: Int)
    /// The node's final result.
    case report(NodeResult)

    /// How many queued messages the delivery stands for.
    var messageCount: Int {
        if case .output(let lines) = self { lines.count } else { 1 }
    }

    /// What the delivery is, for a log line (never a line's text or a data value).
    public var description: String {
        switch self {
        case .output(let lines): "output lines \(lines.first?.index ?? 0)–\(lines.last?.index ?? 0)"
        case .scriptStarted(let script): "script started \(script.script)"
        case .scriptFinished(let script, let exitCode): "script finished \(script.script) (\(exitCode))"
        case .report(.ok): "report ok"
        case .report(.error(let code, _)): "report error \(code)"
        }
    }
}
