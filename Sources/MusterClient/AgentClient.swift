import Foundation
import MusterCore

/// The agent side of the broker API for one node, with that node's token: what `muster-agent` does.
///
/// Every call here is safe to send twice (the broker deduplicates check-ins, output lines by index, script
/// reports and the final report), so each is retried on connection errors and on 429, 502, 503 and 504 as
/// ``BrokerConfiguration/retry`` allows. A call that still fails throws a ``BrokerClientError`` (or
/// `CancellationError` when its task is cancelled); ``BrokerClientError/isTransient`` says whether asking again
/// later may help.
///
/// A quiet node's agent makes two requests: a check-in that the broker holds until the node is released, and the
/// final report, which carries the output lines and script reports not yet sent:
///
/// ```swift
/// let agent = connection.agentClient(context: contextID, node: "head-0", token: nodeToken)
/// var response = try await agent.checkIn(identities, wait: .seconds(60))  // held until released
/// while !response.released {
///     response = try await agent.answer()  // held by the broker until released or its wait ends
/// }
/// // … run the scripts …
/// try await agent.report(.ok, lines: lastLines)
/// ```
public struct AgentClient: Sendable {
    /// The connection the client speaks through.
    public let connection: BrokerConnection
    /// The node's context.
    public let context: ContextID
    /// The node the client speaks for.
    public let node: String
    private let token: String

    /// Creates a client that speaks for `node` of `context` through `connection`, with the node's `token`.
    public init(connection: BrokerConnection, context: ContextID, node: String, token: String) {
        self.connection = connection
        self.context = context
        self.node = node
        self.token = token
    }

    /// `POST …/checkin`: reports the node's identities (one per NIC).
    ///
    /// With a `wait`, the check-in is also the first long-poll: the broker answers at once when the node is
    /// released (or its life on the broker ended), and otherwise holds the request until it is, or until `wait`
    /// ends, as ``answer(after:wait:)`` does; the request's timeout allows for that. A broker that predates this
    /// answers at once, so a caller goes on with ``answer(after:wait:)`` when the response is not released.
    ///
    /// - Parameters:
    ///   - identities: One identity per NIC.
    ///   - wait: How long the broker may hold the request, in whole seconds (rounded up), at most
    ///     `BrokerProtocol.maximumWaitSeconds`; zero (the default) answers at once.
    /// - Returns: Where the node stands: released (with its answer) if everything it requires is there.
    public func checkIn(_ identities: [Identity], wait: Duration = .zero) async throws -> AnswerResponse {
        let seconds = Self.waitSeconds(wait)
        var call = try BrokerCall(
            .POST,
            BrokerRoutes.checkIn(context, node),
            query: seconds > 0 ? [("wait", String(seconds))] : [],
            token: token,
            safety: .idempotent
        )
        .json(CheckInRequest(identities: identities))
        if seconds > 0 { call.timeout = .seconds(seconds) + connection.configuration.timeouts.longPollMargin }
        return try await connection.send(call, decoding: AnswerResponse.self)
    }

    /// A long-poll's wait in whole seconds, rounded up, within what the protocol allows.
    private static func waitSeconds(_ wait: Duration) -> Int {
        min(max(Int(wait.seconds.rounded(.up)), 0), BrokerProtocol.maximumWaitSeconds)
    }

    /// `GET …/answer`: waits for the node's answer by long-poll.
    ///
    /// The broker holds the request until the node is released with an answer newer than version `after`, or
    /// until `wait` ends; then the response is not released (or not newer) and the agent simply asks again. The
    /// request's timeout is `wait` plus ``BrokerConfiguration/Timeouts/longPollMargin``, so the client never
    /// gives up before the broker answers.
    ///
    /// - Parameters:
    ///   - after: The answer version the node already has (0 before its first answer).
    ///   - wait: How long the broker may hold the request, in whole seconds (rounded up), at most
    ///     `BrokerProtocol.maximumWaitSeconds`.
    public func answer(after: Int = 0, wait: Duration = .seconds(BrokerProtocol.maximumWaitSeconds)) async throws -> AnswerResponse {
        let seconds = Self.waitSeconds(wait)
        var call = BrokerCall(
            .GET,
            BrokerRoutes.answer(context, node),
            query: [("after", String(after)), ("wait", String(seconds))],
            token: token,
            safety: .idempotent
        )
        call.timeout = .seconds(seconds) + connection.configuration.timeouts.longPollMargin
        return try await connection.send(call, decoding: AnswerResponse.self)
    }

    /// Long-polls ``answer(after:wait:)`` until the node is released with an answer newer than version `after`, or
    /// its life on the broker ended (``AnswerResponse/isFinal``: killed, failed, timed out, its context terminated),
    /// when the broker would only answer the same at once, again and again.
    ///
    /// Failures are not absorbed: each long-poll is retried as ``BrokerConfiguration/retry`` allows, and an
    /// error that outlasts that is thrown, for the agent to decide (it usually waits and calls this again).
    public func waitForAnswer(after: Int = 0, wait: Duration = .seconds(BrokerProtocol.maximumWaitSeconds)) async throws -> AnswerResponse {
        while true {
            let response = try await answer(after: after, wait: wait)
            if response.isFinal { return response }
            if response.released, let answer = response.answer, answer.version > after { return response }
            try Task.checkCancellation()
        }
    }

    /// `POST …/output`: appends lines of script output, numbered by the agent from 0 (per slot generation).
    ///
    /// Lines the broker already holds are skipped, so sending a batch again (after a lost reply) delivers each
    /// line once. If the lines would leave a gap (the broker lost a batch, or restarted from an older state), the
    /// broker refuses them and says from which index to resend: that comes back as
    /// ``OutputAppendOutcome/gap(expected:)`` rather than as an error.
    public func appendOutput(_ lines: [OutputLine]) async throws -> OutputAppendOutcome {
        let call = try BrokerCall(.POST, BrokerRoutes.output(context, node), token: token, safety: .idempotent)
            .json(OutputAppendRequest(lines: lines))
        do {
            return .appended(next: try await connection.send(call, decoding: OutputAppendResult.self).next)
        } catch let error as BrokerClientError where error.code == .outputGap {
            return .gap(expected: error.expected ?? 0)
        }
    }

    /// `POST …/scripts`: reports that a ctx-script started.
    public func scriptStarted(_ script: ScriptRef) async throws {
        try await report(script: ScriptReport(script: script))
    }

    /// `POST …/scripts`: reports that a ctx-script finished with `exitCode`.
    public func scriptFinished(_ script: ScriptRef, exitCode: Int) async throws {
        try await report(script: ScriptReport(script: script, exitCode: exitCode))
    }

    /// `POST …/report`: reports the node's final result (ok, or an error code and message), with the output
    /// `lines` and script reports not yet sent.
    ///
    /// The broker appends the lines first, by the rules of ``appendOutput(_:)`` (so sending the report again after
    /// a lost reply delivers each line once), then applies the script reports in order, then the result. Lines
    /// that would leave a gap are refused, and with them the whole report: that comes back as
    /// ``ReportOutcome/gap(expected:)``, to be sent again renumbered from that index.
    ///
    /// - Returns: ``ReportOutcome/applied(next:)`` with the number of lines the broker holds when the report
    ///   carried lines or scripts, or `nil` when it carried none or the broker predates tails (it applied the result
    ///   only, and ignored the lines and scripts: send them on their own routes).
    @discardableResult
    public func report(_ result: NodeResult, lines: [OutputLine] = [], scripts: [ScriptReport] = []) async throws -> ReportOutcome {
        let body = ResultReport(result, lines: lines, scripts: scripts)
        let call = try BrokerCall(.POST, BrokerRoutes.report(context, node), token: token, safety: .idempotent).json(body)
        do {
            let reply = try await connection.perform(call)
            guard body.hasTail, reply.status != 204 else { return .applied(next: nil) }
            return .applied(next: try connection.decode(OutputAppendResult.self, from: reply, call: call).next)
        } catch let error as BrokerClientError where error.code == .outputGap {
            return .gap(expected: error.expected ?? 0)
        }
    }

    private func report(script: ScriptReport) async throws {
        let call = try BrokerCall(.POST, BrokerRoutes.scripts(context, node), token: token, safety: .idempotent).json(script)
        _ = try await connection.perform(call)
    }
}

/// What became of an ``AgentClient/appendOutput(_:)``.
public enum OutputAppendOutcome: Sendable, Hashable {
    /// The broker holds every line before index `next` (the lines sent, and any it already had).
    case appended(next: Int)
    /// The broker refused the lines because lines before them are missing: resend from index `expected`.
    case gap(expected: Int)

    /// The index the broker expects next, either way: lines below it are safely stored.
    public var next: Int {
        switch self {
        case .appended(let next): next
        case .gap(let expected): expected
        }
    }
}

/// What became of an ``AgentClient/report(_:lines:scripts:)``.
public enum ReportOutcome: Sendable, Hashable {
    /// The broker applied the report. With lines or scripts, `next` is how many lines it now holds; `nil` when the
    /// report carried none, or the broker predates tails and applied the result only.
    case applied(next: Int?)
    /// The broker refused the report, lines and result alike, because lines before them are missing: send it again
    /// with the lines renumbered from index `expected`.
    case gap(expected: Int)
}
