import Foundation
import HTTPTypes
import MusterCore

/// What a change committed with others asks for.
enum GroupedChange {
    /// One engine command: a check-in, a script report, a launcher's or an operator's command.
    case command(EngineCommand, mint: BrokerState.Minting)
    /// A node's output lines (see ``BrokerState/appendOutput(_:lines:)``).
    case output(NodeKey, [OutputLine])
    /// A node's final report with the tail of its output (see ``BrokerState/resultReport(withTail:of:)``).
    case report(NodeKey, ResultReport)
}

/// What a grouped change produced, once its group is durable.
struct GroupAnswer {
    var performed = BrokerState.Performed()
    /// For output and reports: how many lines the node has now.
    var outputNext = 0
}

/// A change waiting for the group commit that will make it durable.
struct GroupMember {
    var change: GroupedChange
    var continuation: CheckedContinuation<Result<GroupAnswer, BrokerError>, Never>
}

/// Group commit: the changes agents, launchers and operators send one at a time (check-ins, output, reports,
/// one-command actions) that arrive while another change is being committed wait together, then are applied in
/// arrival order and committed in one transaction. Each is answered, and its events, releases and output lines
/// published in order, only once that transaction is durable, as if it had been committed alone; a change the
/// engine refuses is answered with its error and leaves the others alone. When nothing else is in flight, a
/// change is committed at once, alone.
///
/// The work is done by one committer task, not by the connection's: a connection held on a long-poll keeps the
/// largest call stack its task ever had (Swift's task allocator keeps its slabs), so the deep staging and commit
/// frames stay off the 10,000 connection tasks of a large boot.
extension BrokerState {
    func performInGroup(_ change: GroupedChange) async throws(BrokerError) -> GroupAnswer {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<GroupAnswer, BrokerError>, Never>) in
            groupForming.append(GroupMember(change: change, continuation: continuation))
            if !groupCommitterActive {
                groupCommitterActive = true
                Task { await self.commitGroups() }
            }
        }
        return try result.get()
    }

    /// Commits the waiting changes, a group at a time, until none is left.
    private func commitGroups() async {
        while !groupForming.isEmpty {
            // Whatever arrives while this waits for the change in flight joins the group.
            await beginChange()
            let group = groupForming
            groupForming = []
            await commitGroup(group)
            endChange()
        }
        groupCommitterActive = false
    }

    /// A member staged for its group's commit: what it changed, its output, and the error it is answered with
    /// even though what it staged is committed (a refused result keeps the lines that explain it).
    private struct StagedMember {
        var member: GroupMember
        var change: StagedChange
        var output: (key: NodeKey, staged: StagedOutput)?
        var outputNext: Int
        var refusal: BrokerError?
    }

    private func commitGroup(_ group: [GroupMember]) async {
        guard !isShuttingDown else {
            for member in group { member.continuation.resume(returning: .failure(BrokerError.unavailable("the broker is shutting down"))) }
            return
        }
        do {
            await apply(try await store.beginWrite())
        } catch {
            for member in group { member.continuation.resume(returning: .failure(BrokerError(error))) }
            return
        }
        groupOutputs = [:]
        var staged: [StagedMember] = []
        for member in group {
            do throws(BrokerError) {
                staged.append(try await stage(member))
            } catch {
                member.continuation.resume(returning: .failure(error))
            }
        }
        groupOutputs = [:]
        do throws(BrokerError) {
            if !staged.isEmpty { try await commit(staged.map(\.change), deleting: nil) }
            for entry in staged {
                if let output = entry.output { finish(output.staged, of: output.key) }
                if let refusal = entry.refusal {
                    entry.member.continuation.resume(returning: .failure(refusal))
                } else {
                    entry.member.continuation.resume(
                        returning: .success(GroupAnswer(performed: entry.change.performed, outputNext: entry.outputNext))
                    )
                }
            }
        } catch {
            for entry in staged { entry.member.continuation.resume(returning: .failure(error)) }
        }
        await store.endWrite()
    }

    /// Applies one member to the engine and stages what it writes. Throws only when nothing of it was applied.
    private func stage(_ member: GroupMember) async throws(BrokerError) -> StagedMember {
        switch member.change {
        case .command(let command, let mint):
            let change = try await stageChange([command], mint: mint, deleting: nil, restoring: false)
            return StagedMember(member: member, change: change, outputNext: 0)
        case .output(let key, let lines):
            let output = try await stageOutput(key, lines: lines)
            if let output { groupOutputs[key] = output.stored }
            let change = StagedChange(commands: [], time: clock(), batch: output?.batch ?? StoreBatch())
            return StagedMember(
                member: member,
                change: change,
                output: output.map { (key, $0) },
                outputNext: output?.next ?? stagedOutput(of: key).next
            )
        case .report(let key, let report):
            return try await stageReport(member, key: key, report: report)
        }
    }

    /// A report: its lines first (a gap refuses the whole report), then its script reports in order (a refused one
    /// is left out, as the agent leaves out such a report sent alone; none are applied again for a report the
    /// broker already applied, whose first answer was lost), then its result. A refused result still commits the
    /// lines, which are what explains it, and is answered with its error.
    private func stageReport(_ member: GroupMember, key: NodeKey, report: ResultReport) async throws(BrokerError) -> StagedMember {
        var output: StagedOutput?
        if let lines = report.lines, !lines.isEmpty {
            output = try await stageOutput(key, lines: lines)
        }
        let next = output?.next ?? stagedOutput(of: key).next
        var commands: [EngineCommand] = []
        if let scripts = report.scripts, !scripts.isEmpty {
            let node = try node(key)
            if !Self.stands(node, at: report.result) { commands = scriptCommands(key, scripts, timeline: node.timeline) }
        }
        let scriptCount = commands.count
        commands.append(.report(context: key.context, node: key.node, result: report.result))
        let batch = output?.batch ?? StoreBatch()
        do throws(BrokerError) {
            let change = try await stageChange(
                commands,
                mint: .launchesOnly,
                deleting: nil,
                with: batch,
                skippingRefused: scriptCount,
                restoring: false
            )
            if let output { groupOutputs[key] = output.stored }
            return StagedMember(member: member, change: change, output: output.map { (key, $0) }, outputNext: next, refusal: change.refusal)
        } catch {
            // A result the engine refuses (the node was killed or timed out meanwhile) still leaves its last lines.
            guard let output, error.status == .conflict || error.status == .unprocessableContent else { throw error }
            groupOutputs[key] = output.stored
            let change = StagedChange(commands: [], time: clock(), batch: output.batch)
            return StagedMember(member: member, change: change, output: (key, output), outputNext: next, refusal: error)
        }
    }

    /// Whether `node` already stands at `result` (its report was applied).
    private static func stands(_ node: NodeSnapshot, at result: NodeResult) -> Bool {
        switch result {
        case .ok: node.state == .ok
        case .error(let code, let message): node.state == .failed && node.exitCode == code && node.message == message
        }
    }
}
