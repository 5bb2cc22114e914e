import Foundation
import HTTPTypes
import Logging
import MusterCore

/// What agents do: check in, wait for their answer, stream output, report.
extension BrokerState {
    /// Why a node token was refused.
    enum NodeAuthorization {
        case allowed
        /// The token is not this node's (wrong token, or another node's): 403 when it is some other valid
        /// node's token, 401 otherwise.
        case refused(BrokerError)
    }

    /// Checks that `token` is the current token of exactly this node.
    func authorizeNode(_ key: NodeKey, token: String) -> NodeAuthorization {
        let hash = Token.hash(token)
        if let record = nodeTokens[key], Token.constantTimeEqual(record.hash, hash) {
            return .allowed
        }
        if let operatorTokenHash, Token.constantTimeEqual(operatorTokenHash, hash) {
            return .refused(.forbidden("this endpoint is for the node's own agent; the operator token cannot act as a node"))
        }
        if nodeTokens.values.contains(where: { Token.constantTimeEqual($0.hash, hash) }) {
            return .refused(.forbidden("this token belongs to another node; a node may speak only as itself"))
        }
        if engine.contexts[key.context] == nil {
            return .refused(.unauthorized("invalid node token"))
        }
        return .refused(.unauthorized("invalid node token for \(key.node) (retried nodes get a new token)"))
    }

    /// Whether a token is some node's current token (to tell 403 from 401 on operator routes).
    func isNodeToken(_ token: String) -> Bool {
        let hash = Token.hash(token)
        return nodeTokens.values.contains { Token.constantTimeEqual($0.hash, hash) }
    }

    // MARK: Check-in and answers

    /// Records a node's identities; answers with its state (and its answer when it is released at once).
    func checkIn(_ key: NodeKey, identities: [Identity]) throws(BrokerError) -> AnswerResponse {
        _ = try perform([.checkIn(context: key.context, node: key.node, identities: identities)])
        return try answerResponse(key, after: 0)
    }

    /// The node's answer when it is released with a version newer than `after`, else its waiting state.
    func answerResponse(_ key: NodeKey, after: Int) throws(BrokerError) -> AnswerResponse {
        do {
            let context = try engine.context(key.context)
            let node = try context.node(key.node)
            let answer = try context.answer(for: key.node)
            return AnswerResponse(
                released: answer != nil,
                state: node.state,
                requirements: node.requirements,
                answer: answer.flatMap { $0.version > after ? $0 : nil },
                terminated: context.terminated ? true : nil
            )
        } catch {
            throw BrokerError(error)
        }
    }

    /// Long-poll: answers as soon as the node has an answer newer than `after`, the node stops, its context ends,
    /// or `wait` passes. An `ok` node's agent that stays attached is held like any other: idle nodes cost one
    /// request per `wait`, not a busy loop.
    func waitForAnswer(_ key: NodeKey, after: Int, wait: Duration) async throws(BrokerError) -> AnswerResponse {
        let first = try answerResponse(key, after: after)
        if first.answer != nil || first.isFinal || wait <= .zero || isShuttingDown { return first }
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if Task.isCancelled {
                    continuation.resume()
                    return
                }
                answerWaiters[key, default: [:]][id] = continuation
                Task { [weak self] in
                    try? await Task.sleep(for: wait)
                    await self?.wakeAnswerWaiter(key, id: id)
                }
            }
        } onCancel: {
            Task { await self.wakeAnswerWaiter(key, id: id) }
        }
        return try answerResponse(key, after: after)
    }

    func wakeAnswerWaiters(_ key: NodeKey) {
        guard let waiters = answerWaiters.removeValue(forKey: key) else { return }
        for continuation in waiters.values { continuation.resume() }
    }

    private func wakeAnswerWaiter(_ key: NodeKey, id: UUID) {
        guard let continuation = answerWaiters[key]?.removeValue(forKey: id) else { return }
        if answerWaiters[key]?.isEmpty == true { answerWaiters[key] = nil }
        continuation.resume()
    }

    // MARK: Scripts and reports

    func scriptReport(_ key: NodeKey, report: ScriptReport) throws(BrokerError) {
        if let exitCode = report.exitCode {
            _ = try perform([.scriptFinished(context: key.context, node: key.node, script: report.script, exitCode: exitCode)])
        } else {
            _ = try perform([.scriptStarted(context: key.context, node: key.node, script: report.script)])
        }
    }

    func resultReport(_ key: NodeKey, report: ResultReport) throws(BrokerError) {
        _ = try perform([.report(context: key.context, node: key.node, result: report.result)])
    }

    // MARK: Output

    /// Longest line kept; longer lines are cut (and say so) so that one runaway line cannot fill the store.
    static let maximumLineLength = 16 * 1024

    /// Appends output lines; lines the broker already has are skipped, a gap is refused with the expected index.
    func appendOutput(_ key: NodeKey, lines: [OutputLine]) throws(BrokerError) -> OutputAppendResult {
        guard !isShuttingDown else { throw BrokerError.unavailable("the broker is shutting down") }
        let node = try node(key)
        guard node.state != .killed else {
            throw BrokerError(.conflict, code: "conflict", "node '\(key.node)' is \(node.state.rawValue); it no longer sends output")
        }
        var next = outputCounts[key] ?? 0
        var fresh: [OutputLine] = []
        for var line in lines.sorted(by: { $0.index < $1.index }) where line.index >= next {
            guard line.index == next else {
                throw BrokerError(
                    .conflict,
                    code: "output-gap",
                    "expected output line \(next), got \(line.index); resend from \(next)",
                    expected: next
                )
            }
            if line.text.utf8.count > Self.maximumLineLength {
                line.text = String(decoding: line.text.utf8.prefix(Self.maximumLineLength), as: UTF8.self) + " [line cut at 16 KiB]"
            }
            fresh.append(line)
            next += 1
        }
        guard !fresh.isEmpty else { return OutputAppendResult(next: next) }
        var batch = StoreBatch()
        batch.output = [OutputBatch(context: key.context, node: key.node, generation: node.generation, lines: fresh)]
        do {
            try store.commit(batch)
        } catch {
            throw BrokerError(error)
        }
        outputCounts[key] = next
        if let subscribers = outputSubscribers[key] {
            for (id, continuation) in subscribers {
                for line in fresh {
                    if case .dropped = continuation.yield(line) {
                        continuation.finish()
                        outputSubscribers[key]?[id] = nil
                        break
                    }
                }
            }
        }
        return OutputAppendResult(next: next)
    }
}
