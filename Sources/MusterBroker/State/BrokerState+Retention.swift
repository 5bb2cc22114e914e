import HTTPTypes
import Logging
import MusterCore

extension BrokerState {
    /// Deletes a context: its events, output and token hashes go, and a snapshot of the engine replaces the
    /// stored commands, so that nothing of it is kept and a restart replays only what came after.
    ///
    /// A context with running nodes (launching, booted, waiting, configuring) is refused unless `force`, which
    /// terminates it first (its nodes are stopped).
    func deleteContext(_ id: ContextID, force: Bool) async throws(BrokerError) -> ContextSummary {
        let state: ContextState
        do {
            state = try engine.context(id)
        } catch {
            throw BrokerError(error)
        }
        let summary = summary(of: state)
        // The engine refuses to delete a context with running nodes; force terminates it first.
        let commands: [EngineCommand] = (force && !state.canBeDeleted ? [.terminate(context: id)] : []) + [.deleteContext(context: id)]
        _ = try await perform(commands, deleting: id)
        logger.info("context deleted", metadata: ["context": "\(id)", "forced": "\(commands.count > 1)"])
        return summary
    }

    /// Drops what the state keeps in memory for a deleted context: token hashes, unlaunched tokens, output
    /// counts; its output streams end and its long-polls are answered (with 404 now).
    func forget(_ id: ContextID) {
        tokens.removeAll(context: id)
        for key in unlaunchedTokens.keys where key.context == id { unlaunchedTokens[key] = nil }
        for key in outputs.keys where key.context == id { outputs[key] = nil }
        for key in outputSubscribers.keys where key.context == id { endOutputStreams(of: key) }
        for key in answerWaiters.keys where key.context == id { wakeAnswerWaiters(key) }
    }

    /// Drops what the state keeps in memory for a removed slot: its token, output count and streams; a long-poll
    /// still held for it is answered (with 404 now).
    func forget(_ key: NodeKey) {
        tokens.restore(key, to: nil)
        unlaunchedTokens[key] = nil
        outputs[key] = nil
        endOutputStreams(of: key)
        wakeAnswerWaiters(key)
    }
}
