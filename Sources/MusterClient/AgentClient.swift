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
/// ```swift
/// let agent = connection.agentClient(context: contextID, node: "head-0", token: nodeToken)
/// var response = try await agent.checkIn(identities)
/// while !response.released {
///     response = try await agent.answer()  // held by the broker until released or its wait ends
/// }
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
    /// - Returns: Where the node stands: released (with its answer) if everything it requires is already there.
    public func checkIn(_ identities: [Identity]) async throws -> AnswerResponse {
        let call = try BrokerCall(.POST, BrokerRoutes.checkIn(context, node), token: token, safety: .idempotent)
            .json(CheckInRequest(identities: identities))
        return try await connection.send(call, decoding: AnswerResponse.self)
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
        let seconds = min(max(Int(wait.seconds.rounded(.up)), 0), BrokerProtocol.maximumWaitSeconds)
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

    /// `POST …/report`: reports the node's final result (ok, or an error code and message).
    public func report(_ result: NodeResult) async throws {
        let call = try BrokerCall(.POST, BrokerRoutes.report(context, node), token: token, safety: .idempotent)
            .json(ResultReport(result))
        _ = try await connection.perform(call)
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
