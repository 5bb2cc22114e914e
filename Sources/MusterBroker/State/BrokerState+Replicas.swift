import Foundation
import Logging
import MusterCore

/// Replicas: several brokers sharing one store (PostgreSQL), each keeping its engine current by applying the
/// changes the others commit (``FollowedChange``), in commit order.
///
/// Applying another broker's commands yields the very events it stored, with the same sequence numbers: followers
/// on every replica see one history, long-polls held here are answered when a change made elsewhere releases
/// them, and tokens minted elsewhere work here. Launches and stops are left to the broker that made the change.
extension BrokerState {
    /// Follows the other brokers sharing the store for as long as the broker runs: each wake-up of the store
    /// (a notification, or its slow tick) catches up. Does nothing for a store with one writer.
    public func startFollowing() {
        guard followTask == nil, let wakeUps = store.changeNotifications() else { return }
        followTask = Task { [weak self] in
            for await _ in wakeUps {
                guard let self else { return }
                await self.followOthers()
            }
        }
    }

    /// Applies what the other brokers committed since this one last looked.
    public func followOthers() async {
        await beginChange()
        defer { endChange() }
        guard !isShuttingDown else { return }
        do {
            await apply(try await store.catchUp())
        } catch {
            logger.warning("cannot read other brokers' changes", metadata: ["error": "\(error.message)"])
        }
    }

    /// Applies a catch-up from the store (inside a change).
    func apply(_ catchUp: StoreCatchUp) async {
        switch catchUp {
        case .changes(let changes):
            for change in changes {
                guard apply(change) else {
                    await reload()
                    return
                }
            }
        case .reload(let stored):
            logger.notice("fell behind the other brokers further than the store keeps changes; reloading the whole state")
            reload(from: stored)
        }
    }

    /// Applies one change another broker committed; `false` when this engine refuses one of its commands (it
    /// does not hold the state that broker built on, which must not happen).
    private func apply(_ change: FollowedChange) -> Bool {
        var outcome = EngineOutcome()
        for stored in change.commands {
            do {
                let applied = try engine.apply(stored.command, at: stored.time)
                outcome.events += applied.events
                outcome.actions += applied.actions
            } catch {
                logger.critical(
                    "a command another broker committed is refused here; reloading the state",
                    metadata: ["context": "\(stored.command.context)", "error": "\(error)"]
                )
                return false
            }
        }
        for record in change.nodeTokens {
            tokens.set(record)
            unlaunchedTokens[NodeKey(context: record.context, node: record.node)] = nil
        }
        for action in outcome.actions {
            // A retried node starts a new output history, here as on the broker that launched it.
            guard case .launch(let context, let node, let generation) = action, generation > 0 else { continue }
            let key = NodeKey(context: context, node: node)
            outputs[key] = nil
            endOutputStreams(of: key)
        }
        for count in change.outputCounts { outputs[NodeKey(context: count.context, node: count.node)] = StoredOutput(count) }
        for group in change.output {
            let key = NodeKey(context: group.context, node: group.node)
            if (try? engine.contexts[group.context]?.generation(of: group.node)) == group.generation { publishOutput(group.lines, of: key) }
        }
        if let hash = change.operatorTokenHash { tokens.operatorHash = hash }
        for id in change.deletedContexts { forget(id) }
        commandsSinceSnapshot += change.commands.count
        publish(outcome, launches: [], launcherActs: false)
        if let time = change.commands.last?.time {
            noteDeadlines(commands: change.commands.map(\.command), actions: outcome.actions, at: time)
        }
        counters.changesFollowed += 1
        replicationLag = max(0, clock().timeIntervalSince(change.committed))
        return true
    }

    /// Reloads everything from the store (a replica that fell too far behind, or disagrees with the log).
    private func reload() async {
        do {
            reload(from: try await store.load())
        } catch {
            logger.critical("cannot reload the state; the broker must be restarted", metadata: ["error": "\(error)"])
            isShuttingDown = true
        }
    }

    /// Replaces the state with a stored one. Streams end (their readers resume from the store, missing nothing)
    /// and long-polls are answered (their agents ask again).
    private func reload(from stored: StoredState) {
        do {
            engine = try Self.rebuild(from: stored)
        } catch {
            logger.critical("cannot rebuild the state; the broker must be restarted", metadata: ["error": "\(error)"])
            isShuttingDown = true
            return
        }
        commandsSinceSnapshot = stored.commands.count
        tokens.operatorHash = stored.operatorTokenHash
        tokens.replaceNodeTokens(with: stored.nodeTokens)
        unlaunchedTokens = [:]
        outputs = Self.storedOutputs(stored.outputCounts, of: engine)
        endAllStreams()
        for key in Array(answerWaiters.keys) { wakeAnswerWaiters(key) }
    }
}
