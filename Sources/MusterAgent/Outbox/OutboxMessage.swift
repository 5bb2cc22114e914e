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

extension OutboxMessage {
    /// The message as a script report, if it is one.
    var scriptReport: ScriptReport? {
        switch self {
        case .scriptStarted(let script): ScriptReport(script: script)
        case .scriptFinished(let script, let exitCode): ScriptReport(script: script, exitCode: exitCode)
        case .output, .report: nil
        }
    }
}

/// What one request to the broker carries: one message, a batch of consecutive output lines, or the final report
/// with the output lines and script reports queued before it (the outbox's tail).
public enum OutboxDelivery: Sendable, Hashable, CustomStringConvertible {
    /// Consecutive output lines, in index order.
    case output([OutputLine])
    /// A script started.
    case scriptStarted(ScriptRef)
    /// A script finished.
    case scriptFinished(ScriptRef, exitCode: Int)
    /// The node's final result, carrying the output lines and script reports queued right before it (in the order
    /// they were queued, lines and scripts apart): `POST …/report` with its tail.
    case report(NodeResult, lines: [OutputLine] = [], scripts: [ScriptReport] = [])

    /// How many queued messages the delivery stands for.
    var messageCount: Int {
        switch self {
        case .output(let lines): lines.count
        case .report(_, let lines, let scripts): lines.count + scripts.count + 1
        case .scriptStarted, .scriptFinished: 1
        }
    }

    /// What the delivery is, for a log line (never a line's text or a data value).
    public var description: String {
        switch self {
        case .output(let lines): "output lines \(lines.first?.index ?? 0)–\(lines.last?.index ?? 0)"
        case .scriptStarted(let script): "script started \(script.script)"
        case .scriptFinished(let script, let exitCode): "script finished \(script.script) (\(exitCode))"
        case .report(let result, let lines, let scripts):
            Self.describe(result) + (lines.isEmpty && scripts.isEmpty ? "" : " with \(lines.count) output lines and \(scripts.count) script reports")
        }
    }

    private static func describe(_ result: NodeResult) -> String {
        switch result {
        case .ok: "report ok"
        case .error(let code, _): "report error \(code)"
        }
    }
}
