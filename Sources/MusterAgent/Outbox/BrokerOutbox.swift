import Foundation
import Logging
import MusterClient
import MusterCore

/// Tells the broker what the agent did — scripts started and finished, their output, the final report — in the
/// order it happened and once, whatever the broker's health, without ever making the scripts wait for it.
///
/// Every call only queues (``AgentReporting`` calls return at once); the queue is delivered in the background,
/// one request at a time, by ``OutboxStateMachine`` (which decides) and this actor (which sends, sleeps and
/// wakes). While the broker is away the scripts go on and the queue grows; a delivery that finds no broker is
/// tried again with a jittered back-off (``RetryPolicy/agent``: up to 2 s between tries, starting over after
/// every success), so the queue drains, in order, within about 2 s of the broker's return. Output lines and script
/// reports that come within a short window travel together, and the final report carries what was queued before it,
/// so a quiet node tells the broker its whole run in one request.
///
/// The broker deduplicates what a repeated request brings again (output lines by index, script reports and the
/// final report by value), so a request whose answer was lost is simply sent again.
///
/// The queue is bounded (``maximumBacklog`` messages; 100,000 ordinary lines take some tens of MB): a script that
/// prints more than that while the broker is away waits for room, as it would wait on a full pipe, rather than the
/// agent growing without bound or dropping lines.
public actor BrokerOutbox: AgentReporting {
    /// The most messages queued before ``output(_:)`` waits for room.
    public let maximumBacklog: Int
    /// How delivery ended, for ``drain()``.
    public enum Ending: Sendable, Equatable {
        /// Everything queued reached the broker (or was dropped as refused by it, with a log line).
        case delivered
        /// The broker refused the node (its token, context or node): nothing more can be delivered. The error says
        /// what the broker said.
        case refused(AgentError)
    }

    private let client: AgentClient
    private let policy: RetryPolicy
    private let logger: Logger
    private var machine: OutboxStateMachine
    private var waiters: [CheckedContinuation<Ending, Never>] = []
    private var roomWaiters: [CheckedContinuation<Void, Never>] = []
    private var ending: Ending?
    /// The window or retry timer, if one is running.
    private var timer: Task<Void, Never>?
    /// The request in flight, if any.
    private var request: Task<Void, Never>?
    /// When the broker stopped answering (for the log line when it is back).
    private var awaySince: ContinuousClock.Instant?

    /// An outbox that delivers through `client`.
    ///
    /// - Parameters:
    ///   - client: The node's agent client. Its connection should not retry on its own (``RetryPolicy/never``):
    ///     the outbox retries, with its own back-off.
    ///   - policy: The back-off between tries while the broker is away.
    ///   - logger: Where delivery problems are logged (never a line's text or a data value).
    ///   - maximumBacklog: The most messages queued before ``output(_:)`` waits for room.
    public init(client: AgentClient, policy: RetryPolicy = .agent, maximumBacklog: Int = 100_000, logger: Logger) {
        self.init(client: client, policy: policy, limits: .standard, maximumBacklog: maximumBacklog, logger: logger)
    }

    init(client: AgentClient, policy: RetryPolicy, limits: OutboxStateMachine.Limits, maximumBacklog: Int, logger: Logger) {
        self.maximumBacklog = max(1, maximumBacklog)
        self.client = client
        self.policy = policy
        self.logger = logger
        self.machine = OutboxStateMachine(limits: limits)
    }

    // MARK: What the agent tells

    public func scriptStarted(_ script: ScriptRef) async { perform(machine.enqueue(.scriptStarted(script))) }

    public func scriptFinished(_ script: ScriptRef, exitCode: Int) async {
        perform(machine.enqueue(.scriptFinished(script, exitCode: exitCode)))
    }

    public func output(_ line: OutputLine) async {
        while machine.queue.count >= maximumBacklog && machine.state != .stopped {
            await withCheckedContinuation { roomWaiters.append($0) }
        }
        perform(machine.enqueue(.output(line)))
    }

    /// Queues the node's final result (after everything queued before it).
    public func report(_ result: NodeResult) { perform(machine.enqueue(.report(result))) }

    /// How many messages wait to be delivered (the one in flight included).
    public var backlog: Int { machine.queue.count }

    /// Waits until everything queued so far has been delivered, or the broker refused the node.
    public func drain() async -> Ending {
        if let ending { return ending }
        if machine.isDrained { return .delivered }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Stops delivering: the request in flight and any timer are cancelled, and what is still queued is dropped.
    /// For an agent that detaches or exits.
    public func close() {
        timer?.cancel()
        request?.cancel()
        perform(machine.stop())
    }

    // MARK: Running the machine

    private func perform(_ action: OutboxStateMachine.Action) {
        defer { makeRoom() }
        switch action {
        case .none:
            break
        case .openWindow(let id, let delay):
            timer = Task {
                do { try await Task.sleep(for: delay) } catch { return }
                self.windowClosed(id)
            }
        case .send(let delivery):
            request = Task { await self.send(delivery) }
        case .scheduleRetry(let failures):
            let delay = policy.delay(beforeRetry: failures)
            timer = Task {
                do { try await Task.sleep(for: delay) } catch { return }
                self.retryDue()
            }
        case .drained:
            finish(.delivered)
        case .stopped(let discarded):
            if discarded > 0 { logger.warning("dropping what the broker was not told", metadata: ["messages": "\(discarded)"]) }
            finish(ending ?? .delivered)
        }
    }

    /// Lets waiting lines in once the queue has room (or nothing will ever be sent).
    private func makeRoom() {
        guard !roomWaiters.isEmpty, machine.queue.count < maximumBacklog || machine.state == .stopped else { return }
        let waiting = roomWaiters
        roomWaiters = []
        for waiter in waiting { waiter.resume() }
    }

    private func windowClosed(_ id: Int) { perform(machine.windowClosed(id)) }

    private func retryDue() { perform(machine.retryDue()) }

    private func finish(_ result: Ending) {
        if case .refused = result { ending = result }
        let waiting = waiters
        waiters = []
        for waiter in waiting { waiter.resume(returning: result) }
    }

    /// Sends one request and feeds the answer (or the failure) back to the machine.
    private func send(_ delivery: OutboxDelivery) async {
        let answer: OutboxStateMachine.Answer
        do {
            switch delivery {
            case .output(let lines):
                switch try await client.appendOutput(lines) {
                case .appended(let next): answer = .outputStored(next: next)
                case .gap(let expected):
                    logger.warning("the broker is missing output lines; renumbering", metadata: ["expected": "\(expected)"])
                    answer = .outputGap(expected: expected)
                }
            case .scriptStarted(let script):
                try await client.scriptStarted(script)
                answer = .accepted
            case .scriptFinished(let script, let exitCode):
                try await client.scriptFinished(script, exitCode: exitCode)
                answer = .accepted
            case .report(let result, let lines, let scripts):
                switch try await client.report(result, lines: lines, scripts: scripts) {
                case .applied(next: nil): answer = .accepted
                case .applied(next: .some(let next)): answer = .outputStored(next: next)
                case .gap(let expected):
                    logger.warning("the broker is missing output lines; renumbering", metadata: ["expected": "\(expected)"])
                    answer = .outputGap(expected: expected)
                }
            }
        } catch let error as BrokerClientError {
            perform(machine.failed(failure(error, delivery: delivery)))
            return
        } catch {
            // Cancelled by `close()`: the machine has stopped already.
            if Task.isCancelled || error is CancellationError { return }
            logger.error("cannot send a report; dropping it", metadata: ["call": "\(delivery)", "error": "\(error)"])
            perform(machine.failed(.rejected))
            return
        }
        if let since = awaySince {
            awaySince = nil
            logger.notice(
                "the broker is back; delivering what was queued",
                metadata: ["away-ms": "\(Int((ContinuousClock.now - since) / .milliseconds(1)))", "queued": "\(machine.queue.count)"]
            )
        }
        perform(machine.delivered(answer))
    }

    /// What the machine is told about a failed request (logged here).
    private func failure(_ error: BrokerClientError, delivery: OutboxDelivery) -> OutboxStateMachine.Failure {
        switch BrokerVerdict(error, call: .delivery, accepted: true) {
        case .retry:
            if awaySince == nil {
                awaySince = ContinuousClock.now
                logger.warning(
                    "the broker is away; the scripts go on, and what they do is queued for it",
                    metadata: ["call": "\(delivery)", "error": "\(error.message)"]
                )
            }
            return .unreachable
        case .drop:
            logger.error("the broker refused a report; dropping it", metadata: ["call": "\(delivery)", "error": "\(error.message)"])
            return .rejected
        case .stop(let refusal):
            logger.notice("the broker refused this node; no more reports", metadata: ["call": "\(delivery)", "error": "\(refusal.message)"])
            ending = .refused(refusal)
            return .refused
        case .detach(let reason):
            logger.notice("no more reports", metadata: ["reason": "\(reason)"])
            return .refused
        }
    }
}
