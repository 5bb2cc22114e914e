import Foundation
import Logging
import MusterCore

/// The contexts' time limits (``MusterCore/ContextLimits``: boot timeout, lease, deadline), enforced by the
/// broker itself: one timer, set for the earliest deadline of any context, that performs what the engine says is
/// due (``MusterCore/ContextState/dueCommands(at:)``) and sets itself again. Nothing ticks while no context has
/// a limit, and a deadline that passed while the broker was down is enforced when it starts.
extension BrokerState {
    /// Does what is due now and sets the timer for what comes next; call once the broker serves.
    public func startDeadlines() async {
        await enforceDeadlines()
    }

    /// Performs every command the limits call for now, then sets the timer for the next deadline.
    func enforceDeadlines() async {
        deadlineTimer?.cancel()
        deadlineTimer = nil
        scheduledDeadline = nil
        guard !isShuttingDown else { return }
        let now = clock()
        var next: Date?
        for id in engine.contextOrder {
            guard let context = engine.contexts[id], !context.terminated, !context.limits.isEmpty else { continue }
            for command in context.dueCommands(at: now) {
                do {
                    _ = try await perform([command])
                    logger.notice("a time limit was reached", metadata: ["context": "\(id)", "command": "\(command)"])
                } catch {
                    logger.warning("could not enforce a time limit", metadata: ["context": "\(id)", "error": "\(error)"])
                }
            }
            if let deadline = engine.contexts[id]?.nextDeadline, next.map({ deadline < $0 }) ?? true { next = deadline }
        }
        if let next { schedule(next) }
    }

    /// Makes sure the timer fires no later than the deadlines a change may have brought: new limits, or nodes
    /// launched under a boot timeout.
    func noteDeadlines(commands: [EngineCommand], actions: [EngineAction], at now: Date) {
        for command in commands {
            if case .setLimits(let id, _) = command, let deadline = engine.contexts[id]?.nextDeadline { noteDeadline(deadline) }
        }
        for action in actions {
            guard case .launch(let id, _, _) = action, let seconds = engine.contexts[id]?.limits.bootTimeoutSeconds else { continue }
            noteDeadline(now.addingTimeInterval(TimeInterval(seconds)))
        }
    }

    private func noteDeadline(_ date: Date) {
        if let scheduled = scheduledDeadline, scheduled <= date { return }
        schedule(date)
    }

    private func schedule(_ date: Date) {
        deadlineTimer?.cancel()
        scheduledDeadline = date
        let delay = max(0, date.timeIntervalSince(clock()))
        deadlineTimer = Task { [weak self] in
            do {
                try await Task.sleep(for: .milliseconds(Int64((delay * 1_000).rounded(.up)) + 1))
            } catch {
                return
            }
            await self?.enforceDeadlines()
        }
    }
}
