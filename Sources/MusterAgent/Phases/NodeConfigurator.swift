import MusterCore

/// Applies the broker's answers to the node, remembering in the ``ProgressStore`` what was done: the first
/// answer with the full plan, each newer one (a provider joined later) with the incremental plan, an answer
/// already applied not at all. A node that failed stays failed (until retried, which starts a new slot
/// generation and a fresh record), so a restarted agent reports the same error instead of running on.
public struct NodeConfigurator: Sendable {
    /// The node's own identities, one per NIC.
    public var own: [Identity]
    /// Runs the plans.
    public var phases: PhaseRunner

    /// Creates a configurator.
    public init(own: [Identity], phases: PhaseRunner) {
        self.own = own
        self.phases = phases
    }

    /// What ``apply(_:outputIndex:)`` did.
    public enum Work: Sendable, Hashable {
        /// Ran (or resumed) the full plan.
        case full
        /// Ran the steps for what is new since the applied answer with this version.
        case incremental(from: Int)
        /// Nothing: this answer (or a newer one) was applied before.
        case alreadyApplied
        /// Nothing: the node failed before; the result is that failure.
        case alreadyFailed
    }

    /// How ``apply(_:outputIndex:)`` ended.
    public struct Outcome: Sendable, Hashable {
        /// What to report: `ok` or the error; `nil` if the calling task was cancelled midway.
        public var result: NodeResult?
        /// The index of the next output line.
        public var nextOutputIndex: Int
        /// What was done.
        public var work: Work
    }

    /// Brings the node up to `answer`, numbering output lines from `outputIndex` (or from the record's,
    /// if that is higher).
    public func apply(_ answer: NodeAnswer, outputIndex: Int) async -> Outcome {
        let progress = phases.progress
        let record = await progress.record
        let index = max(outputIndex, record.outputIndex)
        if let result = record.result, result != .ok { return Outcome(result: result, nextOutputIndex: index, work: .alreadyFailed) }
        let plan: ScriptPlan
        let work: Work
        do {
            let listing = try ScriptListing.read(from: phases.layout.scripts)
            if let applied = record.applied {
                guard answer.version > applied.version else { return Outcome(result: .ok, nextOutputIndex: index, work: .alreadyApplied) }
                plan = .incremental(listing: listing, own: own, from: applied, to: answer)
                work = .incremental(from: applied.version)
            } else {
                plan = try .full(listing: listing, own: own, answer: answer)
                work = .full
            }
        } catch {
            return await finish(.error(code: error.code, message: error.message), answer: nil, index: index, work: .full)
        }
        let run = await phases.run(plan, outputIndex: index)
        guard let result = run.result else { return Outcome(result: nil, nextOutputIndex: run.nextOutputIndex, work: work) }
        return await finish(result, answer: result == .ok ? answer : nil, index: run.nextOutputIndex, work: work)
    }

    private func finish(_ result: NodeResult, answer: NodeAnswer?, index: Int, work: Work) async -> Outcome {
        do {
            try await phases.progress.setOutputIndex(index)
            if let answer { try await phases.progress.markApplied(answer) }
            try await phases.progress.markFinished(result)
        } catch {
            return Outcome(result: error.result, nextOutputIndex: index, work: work)
        }
        return Outcome(result: result, nextOutputIndex: index, work: work)
    }
}
