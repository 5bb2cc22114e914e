import MusterCore

/// The life of the agent's outbox as a value: what the agent must tell the broker goes in, in the order it
/// happened; requests come out, one at a time, in that same order; the broker's answers (or its absence) come
/// back in. Events in, ``Action``s out: no I/O, no clock, no randomness, so every path is tested without a
/// broker (as async-http-client's `HTTP1ConnectionStateMachine`). ``BrokerOutbox`` runs it.
///
/// ```
/// idle ── a line or a script report ──► gathering ── window closed, batch full, or the final report ──► sending
/// idle ── the final report ─────────────────────────────────────────────────────────────────────────► sending
/// sending ── delivered (or rejected) ──► sending the next, or idle when the queue is empty
/// sending ── no broker ──► waiting to retry ── retry due ──► sending (the same head, more lines perhaps)
/// sending ── refused ──► stopped
/// ```
///
/// **Few requests**: what comes within a short window travels together, and the final report carries the output
/// lines and script reports queued right before it (its tail), so a quiet node's whole run after its check-in is
/// one request. When the window closes first, the head goes as before: a script report alone, consecutive lines
/// in one batch.
///
/// Guarantees, whatever the broker does:
/// - **in order**: a message is sent only once every message queued before it was delivered (or rejected);
/// - **nothing lost while the broker is away**: a delivery that found no broker stays at the head of the queue
///   and is tried again after a back-off (``Action/scheduleRetry(failures:)``), which starts over after every
///   delivery that got through;
/// - **once**: a delivery is repeated only when its answer never came, and the broker deduplicates what it already
///   had (output lines by index, script reports and the final report by value);
/// - **numbering follows the broker**: when the broker's count of this node's output lines and the agent's
///   numbering part (a gap, or lines from an earlier run of the agent that the broker already holds), the queued
///   lines and every later one are renumbered to carry on from the broker's count, so no line is refused or taken
///   for a repeat.
struct OutboxStateMachine: Sendable {
    /// How output lines are batched.
    struct Limits: Sendable, Hashable {
        /// How long the first queued line waits for company before it is sent (when nothing else is in flight).
        var window: Duration
        /// The most lines in one request.
        var batchLines: Int
        /// About the most bytes of line text in one request (a single longer line still goes alone). The broker
        /// takes output bodies of up to 1 MiB; JSON escaping may inflate text up to six times.
        var batchBytes: Int

        /// A 150 ms window, at most 500 lines or about 128 KiB of text per request.
        static let standard = Limits(window: .milliseconds(150), batchLines: 500, batchBytes: 128 * 1024)
    }

    /// Where the outbox stands.
    enum State: Sendable, Hashable {
        /// Nothing is queued and nothing is in flight.
        case idle
        /// Output lines and script reports are queued, waiting for the window with this number to close (or a batch
        /// to fill, or the final report to follow them).
        case gathering(window: Int)
        /// This request is in flight; its messages stay at the head of the queue until it is answered.
        case sending(OutboxDelivery)
        /// The last try found no broker (this many tries in a row); the head of the queue waits for the retry.
        case waitingToRetry(failures: Int)
        /// The broker refused this node for good: nothing more is sent, and what is enqueued is dropped.
        case stopped
    }

    /// What the runner of the machine must do.
    enum Action: Sendable, Hashable {
        /// Nothing.
        case none
        /// Call ``windowClosed(_:)`` with `id` after `delay`.
        case openWindow(id: Int, delay: Duration)
        /// Send this request, then call ``delivered(_:)`` with the broker's answer or ``failed(_:)``.
        case send(OutboxDelivery)
        /// Wait the back-off for this many failures in a row (``RetryPolicy/delay(beforeRetry:)``), then call
        /// ``retryDue()``.
        case scheduleRetry(failures: Int)
        /// Everything queued was delivered: wake whoever waits for that.
        case drained
        /// The machine stopped; `discarded` queued messages will never be sent. Wake whoever waits.
        case stopped(discarded: Int)
    }

    /// How the broker answered a delivery.
    enum Answer: Sendable, Hashable {
        /// It took the script report or the final report. For a report with a tail: a broker that predates tails
        /// took its result only.
        case accepted
        /// It took the output (or the report and its tail): it now holds every line below `next`.
        case outputStored(next: Int)
        /// It refused the output (or the report with it) because lines before it are missing: resend from
        /// `expected`.
        case outputGap(expected: Int)
    }

    /// Why a delivery did not get through.
    enum Failure: Sendable, Hashable {
        /// No broker (unreachable, 5xx, 429): the same delivery is tried again after a back-off.
        case unreachable
        /// The broker refused this message, not the node (409, 422, 400, 413): it is dropped, the rest go on.
        case rejected
        /// The broker refused the node (401, 403, 404): the machine stops.
        case refused
    }

    /// Where the machine stands.
    private(set) var state: State = .idle
    /// The messages not yet delivered, oldest first (the one in flight included).
    private(set) var queue: [OutboxMessage] = []
    /// Added to the index of every line enqueued from now on: non-zero once the broker's numbering and the
    /// agent's parted.
    private(set) var indexShift = 0
    private var failures = 0
    private var windows = 0
    /// The text bytes of the lines gathered so far (only while gathering).
    private var gatheredBytes = 0
    private let limits: Limits

    /// A machine with nothing queued.
    init(limits: Limits = .standard) {
        self.limits = limits
    }

    /// Whether everything enqueued has been delivered (or dropped) and nothing is in flight.
    var isDrained: Bool { state == .idle || state == .stopped }

    // MARK: Events

    /// Something more to tell the broker.
    mutating func enqueue(_ message: OutboxMessage) -> Action {
        var message = message
        if case .output(var line) = message {
            line.index += indexShift
            message = .output(line)
        }
        switch state {
        case .stopped:
            return .none
        case .sending, .waitingToRetry:
            queue.append(message)
            return .none
        case .idle:
            queue.append(message)
            guard let size = Self.size(message), limits.window > .zero else { return sendHead() }
            gatheredBytes = size
            if isBatchFull { return sendHead() }
            windows += 1
            state = .gathering(window: windows)
            return .openWindow(id: windows, delay: limits.window)
        case .gathering:
            queue.append(message)
            guard let size = Self.size(message) else { return sendHead() }
            gatheredBytes += size
            return isBatchFull ? sendHead() : .none
        }
    }

    /// The window with this number closed.
    mutating func windowClosed(_ id: Int) -> Action {
        guard state == .gathering(window: id) else { return .none }
        return sendHead()
    }

    /// The broker answered the delivery in flight.
    mutating func delivered(_ answer: Answer) -> Action {
        guard case .sending(let delivery) = state else { return .none }
        failures = 0
        switch (delivery, answer) {
        case (.output(let lines), .outputStored(let next)):
            if Self.takenForRepeats(lines, next: next) {
                // The broker already held lines at and beyond these indexes, from an earlier run of this agent: it took
                // these as repeats. They, and every line after them, carry on from the broker's count.
                renumber(from: next)
            } else {
                queue.removeFirst(lines.prefix { $0.index < next }.count)
            }
        case (.report(_, let lines, _), .outputStored(let next)) where Self.takenForRepeats(lines, next: next):
            // The report and its script reports were applied, but its lines taken for repeats (as above): they stay,
            // renumbered, and go on their own.
            let count = delivery.messageCount
            queue.replaceSubrange(0..<count, with: queue.prefix(count).filter { Self.line($0) != nil })
            renumber(from: next)
        case (.report(_, let lines, let scripts), .accepted) where !lines.isEmpty || !scripts.isEmpty:
            // A broker that predates tails applied the result only: the lines and script reports go on their own
            // routes (after the result, which is the best such a broker allows; nothing is lost).
            queue.remove(at: delivery.messageCount - 1)
        case (.output, .outputGap(let expected)), (.report, .outputGap(let expected)):
            renumber(from: expected)
        default:
            queue.removeFirst(delivery.messageCount)
        }
        return sendHead()
    }

    /// The delivery in flight did not get through.
    mutating func failed(_ failure: Failure) -> Action {
        guard case .sending(let delivery) = state else { return .none }
        switch failure {
        case .unreachable:
            failures += 1
            state = .waitingToRetry(failures: failures)
            return .scheduleRetry(failures: failures)
        case .rejected:
            failures = 0
            queue.removeFirst(delivery.messageCount)
            return sendHead()
        case .refused:
            return stop()
        }
    }

    /// The back-off after a failure has passed: try the head of the queue again.
    mutating func retryDue() -> Action {
        guard case .waitingToRetry = state else { return .none }
        return sendHead()
    }

    /// Stops for good (the node detached, or the broker refused it): nothing more is sent.
    mutating func stop() -> Action {
        guard state != .stopped else { return .none }
        let discarded = queue.count
        queue.removeAll()
        state = .stopped
        return .stopped(discarded: discarded)
    }

    // MARK: Building requests

    private var isBatchFull: Bool { queue.count >= limits.batchLines || gatheredBytes >= limits.batchBytes }

    /// Sends the head of the queue, or goes idle when there is nothing left.
    private mutating func sendHead() -> Action {
        gatheredBytes = 0
        guard let delivery = headDelivery() else {
            state = .idle
            return .drained
        }
        state = .sending(delivery)
        return .send(delivery)
    }

    /// The request for the head of the queue: the final report with everything queued before it when that fits in
    /// one batch; otherwise one message, or the consecutive output lines there (up to the limits).
    private func headDelivery() -> OutboxDelivery? {
        guard let first = queue.first else { return nil }
        if let report = tailReport() { return report }
        switch first {
        case .scriptStarted(let script): return .scriptStarted(script)
        case .scriptFinished(let script, let exitCode): return .scriptFinished(script, exitCode: exitCode)
        case .report(let result): return .report(result)
        case .output:
            var lines: [OutputLine] = []
            var bytes = 0
            for message in queue {
                guard case .output(let line) = message, lines.count < limits.batchLines else { break }
                let size = Self.size(line)
                if !lines.isEmpty && bytes + size > limits.batchBytes { break }
                lines.append(line)
                bytes += size
            }
            return .output(lines)
        }
    }

    /// The final report carrying every line and script report queued before it, if the queue's head up to a report
    /// fits in one batch (``Limits/batchLines`` messages, ``Limits/batchBytes``).
    private func tailReport() -> OutboxDelivery? {
        var lines: [OutputLine] = []
        var scripts: [ScriptReport] = []
        var bytes = 0
        for message in queue {
            if case .report(let result) = message { return .report(result, lines: lines, scripts: scripts) }
            guard lines.count + scripts.count < limits.batchLines, let size = Self.size(message), bytes + size <= limits.batchBytes else {
                return nil
            }
            bytes += size
            if let line = Self.line(message) { lines.append(line) } else if let script = message.scriptReport { scripts.append(script) }
        }
        return nil
    }

    /// Whether the broker's count `next` after storing `lines` says it took them for repeats of lines it held from an
    /// earlier run of this agent (it holds more than these reach, or took none of them).
    private static func takenForRepeats(_ lines: [OutputLine], next: Int) -> Bool {
        guard let last = lines.last else { return false }
        return next > last.index + 1 || !lines.contains { $0.index < next }
    }

    /// Renumbers every queued line so that the first one gets `start` (and later lines follow), and shifts lines
    /// enqueued from now on alike.
    private mutating func renumber(from start: Int) {
        guard let first = queue.lazy.compactMap(Self.line).first else { return }
        let delta = start - first.index
        indexShift += delta
        for offset in queue.indices {
            if case .output(var line) = queue[offset] {
                line.index += delta
                queue[offset] = .output(line)
            }
        }
    }

    private static func line(_ message: OutboxMessage) -> OutputLine? {
        if case .output(let line) = message { line } else { nil }
    }

    /// About what a line adds to a request: its text, its script's name, and the JSON around them.
    private static func size(_ line: OutputLine) -> Int { line.text.utf8.count + line.script.utf8.count + 96 }

    /// About what a message adds to a request, or `nil` for the final report (which is never gathered: it ends the
    /// window).
    private static func size(_ message: OutboxMessage) -> Int? {
        switch message {
        case .output(let line): size(line)
        case .scriptStarted(let script), .scriptFinished(let script, _):
            script.script.utf8.count + script.arguments.reduce(96) { $0 + $1.utf8.count + 4 }
        case .report: nil
        }
    }
}
