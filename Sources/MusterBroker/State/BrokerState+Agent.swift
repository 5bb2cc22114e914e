import Foundation
import HTTPTypes
import Logging
import MusterCore

/// What agents do: check in, wait for their answer, stream output, report.
extension BrokerState {
    // MARK: Check-in and answers

    /// Records a node's identities; answers with its state and its answer when it is released at once.
    ///
    /// With a `wait`, the check-in is also the node's first long-poll: a node not yet released is held as by
    /// ``pollAnswer(_:after:wait:)``, so that its agent's quiet path is one request until released.
    func checkIn(_ key: NodeKey, identities: [Identity], wait: Duration = .zero) async throws(BrokerError) -> AnswerPoll {
        _ = try await performInGroup(.command(.checkIn(context: key.context, node: key.node, identities: identities), mint: .launchesOnly))
        return try pollAnswer(key, after: 0, wait: wait)
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

    /// Long-poll: the answer now if the node has one newer than `after`, has stopped, its context has ended, or
    /// there is no `wait`; else a wake-up, fired with the answer as soon as one of those happens or `wait` passes.
    /// The caller waits outside the actor (``BrokerResponder``).
    /// An `ok` node's agent that stays attached is held like any other: idle nodes cost one request per `wait`,
    /// not a busy loop.
    func pollAnswer(_ key: NodeKey, after: Int, wait: Duration) throws(BrokerError) -> AnswerPoll {
        let first = try answerResponse(key, after: after)
        if first.answer != nil || first.isFinal || wait <= .zero || isShuttingDown { return .now(first) }
        let wake = AnswerWake(after: after)
        answerWaiters[key, default: []].append(wake)
        answerDeadlines.add(.now + wait, key: key, id: wake)
        armAnswerTimer()
        return .held(wake)
    }

    /// Sets the one timer for held long-polls to their earliest deadline, unless it fires by then already.
    private func armAnswerTimer() {
        guard let earliest = answerDeadlines.earliest else { return }
        if let armed = answerTimerDeadline, armed <= earliest { return }
        answerTimer?.cancel()
        answerTimerDeadline = earliest
        answerTimer = Task { [weak self] in
            // Long-polls ending within a few milliseconds of each other are answered together.
            try? await Task.sleep(until: earliest, tolerance: .milliseconds(10), clock: .continuous)
            guard !Task.isCancelled else { return }
            await self?.expireAnswerWaiters()
        }
    }

    /// Answers the long-polls whose wait has passed, then sets the timer for the next.
    private func expireAnswerWaiters() {
        answerTimer = nil
        answerTimerDeadline = nil
        for (key, wake) in answerDeadlines.expire(through: .now + .milliseconds(10)) { wakeAnswerWaiter(key, wake) }
        armAnswerTimer()
    }

    func wakeAnswerWaiters(_ key: NodeKey) {
        guard let waiters = answerWaiters.removeValue(forKey: key) else { return }
        for wake in waiters { fire(wake, key) }
    }

    private func wakeAnswerWaiter(_ key: NodeKey, _ wake: AnswerWake) {
        fire(wake, key)
        guard var waiters = answerWaiters[key], let index = waiters.firstIndex(where: { $0 === wake }) else { return }
        waiters.remove(at: index)
        answerWaiters[key] = waiters.isEmpty ? nil : waiters
    }

    /// Fires `wake` with `key`'s answer as it is now (or why there is none: the node or its context is gone).
    private func fire(_ wake: AnswerWake, _ key: NodeKey) {
        if wake.isFired { return }
        do throws(BrokerError) {
            wake.fire(with: .success(try answerResponse(key, after: wake.after)))
        } catch {
            wake.fire(with: .failure(error))
        }
    }

    // MARK: Scripts and reports

    /// A script started or finished. A node whose timeline holds ``BrokerLimits/maxTimelineEntries`` runs keeps
    /// running its scripts, but further runs are not recorded (and counted as dropped); their finish reports are
    /// accepted and ignored the same way.
    func scriptReport(_ key: NodeKey, report: ScriptReport) async throws(BrokerError) {
        guard let command = scriptCommands(key, [report], timeline: try node(key).timeline).first else { return }
        _ = try await perform([command])
    }

    func resultReport(_ key: NodeKey, report: ResultReport) async throws(BrokerError) {
        _ = try await perform([.report(context: key.context, node: key.node, result: report.result)])
    }

    /// A final report with the tail of the agent's outbox: its lines are appended first (once, by
    /// ``appendOutput(_:lines:)``'s rules: repeats skipped, a gap refused before anything of the report is
    /// applied), then its script reports in order, then the result. Returns how many lines the node now has.
    ///
    /// One change, one commit: the output, the script reports and the result are durable together or not at all,
    /// committed with the changes that arrived with them (see BrokerState+GroupCommit). A report the broker already
    /// applied (the node already stands at this result: the first reply was lost and the agent sent it again) does
    /// not apply its script reports again. A script report the engine refuses (a finish of a script it never heard
    /// of) is skipped, as the agent skips such a report sent alone; the result is applied whatever, and if the
    /// engine refuses it (the node was killed or timed out meanwhile) the lines are kept and the refusal answered.
    func resultReport(withTail report: ResultReport, of key: NodeKey) async throws(BrokerError) -> OutputAppendResult {
        OutputAppendResult(next: try await performInGroup(.report(key, report)).outputNext)
    }

    /// The engine commands for a report's script reports, in order, leaving out the runs a full timeline no longer
    /// records (see ``scriptReport(_:report:)``), given the node's `timeline` so far.
    func scriptCommands(_ key: NodeKey, _ scripts: [ScriptReport], timeline: [ScriptRun]) -> [EngineCommand] {
        var timeline = timeline
        var commands: [EngineCommand] = []
        for report in scripts {
            if timeline.count >= limits.maxTimelineEntries, !timeline.contains(where: { $0.script == report.script && $0.finished == nil }) {
                if report.exitCode == nil { counters.timelineEntriesDropped += 1 }
                continue
            }
            if let exitCode = report.exitCode {
                commands.append(.scriptFinished(context: key.context, node: key.node, script: report.script, exitCode: exitCode))
                if let run = timeline.lastIndex(where: { $0.script == report.script && $0.finished == nil }) {
                    timeline[run].finished = Date()
                }
            } else {
                commands.append(.scriptStarted(context: key.context, node: key.node, script: report.script))
                timeline.append(ScriptRun(script: report.script, started: Date()))
            }
        }
        return commands
    }

    // MARK: Output

    /// Longest line kept; longer lines are cut (and say so) so that one runaway line cannot fill the store.
    static let maximumLineLength = 16 * 1024

    /// Appends output lines; lines the broker already has are skipped, a gap is refused with the expected index.
    ///
    /// A node keeps at most ``BrokerLimits/maxOutputLines`` lines and ``BrokerLimits/maxOutputBytes`` of text:
    /// past either, the oldest lines are dropped (down to 90 % of both, so that trimming is rare) and the line
    /// before the first one kept becomes a marker saying how many were dropped. The agent is never refused for
    /// it: a chatty script must not fail or stall its node, and the newest lines are the ones that explain a
    /// failure.
    func appendOutput(_ key: NodeKey, lines: [OutputLine]) async throws(BrokerError) -> OutputAppendResult {
        OutputAppendResult(next: try await performInGroup(.output(key, lines)).outputNext)
    }

    /// Output lines checked and ready to commit (see ``appendOutput(_:lines:)``): the rows to write, and what the
    /// node's output is once they are written.
    struct StagedOutput {
        var batch = StoreBatch()
        /// The node's generation the lines belong to.
        var generation: Int
        var stored: StoredOutput
        var kept: [OutputLine]
        var dropped: Int
        var next: Int
    }

    /// Checks lines for a node's output (repeats skipped, a gap refused, long lines cut, the quota kept) and
    /// stages them; `nil` when every line is one the broker already has.
    func stageOutput(_ key: NodeKey, lines: [OutputLine]) async throws(BrokerError) -> StagedOutput? {
        let node = try node(key)
        guard node.state != .killed else {
            throw BrokerError(.conflict, code: "conflict", "node '\(key.node)' is \(node.state.rawValue); it no longer sends output")
        }
        var stored = stagedOutput(of: key)
        var next = stored.next
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
        guard !fresh.isEmpty else { return nil }
        var batch = StoreBatch()
        var kept = fresh
        var dropped = 0
        stored.next = next
        stored.bytes += fresh.reduce(0) { $0 + $1.text.utf8.count }
        if stored.count > limits.maxOutputLines || stored.bytes > limits.maxOutputBytes,
            let trim = try await planTrim(key, generation: node.generation, stored: stored, fresh: fresh)
        {
            batch.outputTrims = [OutputTrim(context: key.context, node: key.node, generation: node.generation, before: trim.marker.index)]
            kept = [trim.marker] + fresh.filter { $0.index > trim.marker.index }
            dropped = trim.after.dropped - stored.dropped
            stored = trim.after
        }
        batch.output = [OutputBatch(context: key.context, node: key.node, generation: node.generation, lines: kept)]
        batch.outputCounts = [stored.count(context: key.context, node: key.node, generation: node.generation)]
        return StagedOutput(batch: batch, generation: node.generation, stored: stored, kept: kept, dropped: dropped, next: next)
    }

    /// A node's output as the changes staged so far leave it: what the group being committed staged for it, else
    /// what is committed.
    func stagedOutput(of key: NodeKey) -> StoredOutput {
        groupOutputs[key] ?? outputs[key] ?? StoredOutput()
    }

    /// Once staged output is committed: the node's count moves on and its followers get the lines (unless a change
    /// committed with it retried the node, whose new generation starts its output again).
    func finish(_ staged: StagedOutput, of key: NodeKey) {
        guard (try? node(key).generation) == staged.generation else { return }
        outputs[key] = staged.stored
        counters.outputLinesDropped += staged.dropped
        publishOutput(staged.kept, of: key)
    }

    /// Which lines to drop so that a node's output fits in 90 % of its quota again: the oldest, stored ones
    /// first, then the oldest of `fresh`; the newest line is always kept.
    private func planTrim(_ key: NodeKey, generation: Int, stored: StoredOutput, fresh: [OutputLine]) async throws(BrokerError) -> OutputTrimPlan? {
        let targetLines = max(1, limits.maxOutputLines - limits.maxOutputLines / 10)
        let targetBytes = max(0, limits.maxOutputBytes - limits.maxOutputBytes / 10)
        let freshSizes = Dictionary(uniqueKeysWithValues: fresh.map { ($0.index, $0.text.utf8.count) })
        let freshStart = fresh[0].index
        var keepFrom = stored.first
        var lines = stored.count
        var bytes = stored.bytes
        var page: [(index: Int, bytes: Int)] = []
        var pageOffset = 0
        // The marker takes one line (and its bytes), so keep dropping until there is room for it too.
        while keepFrom < stored.next - 1 && (lines + 1 > targetLines || bytes + OutputTrimPlan.markerAllowance > targetBytes) {
            let size: Int
            if keepFrom >= freshStart {
                size = freshSizes[keepFrom] ?? 0
            } else {
                if pageOffset == page.count {
                    do {
                        page = try await store.outputLineSizes(
                            context: key.context,
                            node: key.node,
                            generation: generation,
                            from: keepFrom,
                            limit: 4_096
                        )
                    } catch {
                        throw BrokerError(error)
                    }
                    pageOffset = 0
                }
                if pageOffset < page.count, page[pageOffset].index == keepFrom {
                    size = page[pageOffset].bytes
                    pageOffset += 1
                } else {
                    // A line the store does not have (it never should): count it as empty and go on.
                    size = 0
                    pageOffset = page.count
                }
            }
            lines -= 1
            bytes -= size
            keepFrom += 1
        }
        guard keepFrom > stored.first else { return nil }
        // Every index before keepFrom is gone; the last of them becomes the marker.
        let markerIndex = keepFrom - 1
        let marker = OutputLine(
            index: markerIndex,
            time: clock(),
            phase: 0,
            script: "",
            stream: .agent,
            text:
                "[muster] \(Plural.count(markerIndex + 1, "earlier output line")) dropped: the broker keeps the last \(limits.maxOutputLines) lines "
                + "and \(limits.maxOutputBytes / 1024) KiB of a node's output"
        )
        let markerSize = marker.text.utf8.count
        // The marker replaces the line at its index, whose bytes were subtracted above when it was dropped.
        return OutputTrimPlan(
            marker: marker,
            after: StoredOutput(first: markerIndex, next: stored.next, bytes: bytes + markerSize, dropped: markerIndex + 1)
        )
    }
}
