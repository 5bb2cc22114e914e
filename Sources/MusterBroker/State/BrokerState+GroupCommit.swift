import MusterCore

/// A one-command change waiting for the group commit that will make it durable.
struct GroupMember {
    var command: EngineCommand
    var mint: BrokerState.Minting
    var continuation: CheckedContinuation<Result<BrokerState.Performed, BrokerError>, Never>
}

/// Group commit: one-command changes (check-ins, script and result reports, launcher reports) that arrive while
/// another change is being committed wait together, then are applied in arrival order and committed in one
/// transaction. Each is answered, and its events and releases published in order, only once that transaction is
/// durable, as if it had been committed alone; a change the engine refuses is answered with its error and leaves
/// the others alone. When nothing else is in flight, a change is committed at once, alone.
extension BrokerState {
    func performInGroup(_ command: EngineCommand, mint: Minting) async throws(BrokerError) -> Performed {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Performed, BrokerError>, Never>) in
            groupForming.append(GroupMember(command: command, mint: mint, continuation: continuation))
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
        var staged: [(member: GroupMember, change: StagedChange)] = []
        for member in group {
            do throws(BrokerError) {
                // One command: refused, it changed nothing, and the others of the group are unaffected.
                staged.append((member, try await stageChange([member.command], mint: member.mint, deleting: nil)))
            } catch {
                member.continuation.resume(returning: .failure(error))
            }
        }
        do throws(BrokerError) {
            if !staged.isEmpty { try await commit(staged.map(\.change), deleting: nil) }
            for (member, change) in staged { member.continuation.resume(returning: .success(change.performed)) }
        } catch {
            for (member, _) in staged { member.continuation.resume(returning: .failure(error)) }
        }
        await store.endWrite()
    }
}
