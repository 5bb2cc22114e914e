import Foundation
import MusterClient
import MusterCore
import ServiceLifecycle

/// `muster up --headless`: one line per meaningful transition, a line when a waiting node can never be released
/// without help, the reports and summary when the context completes — and, with `--keep`, all of it again for
/// as long as the context lives (a retried node is followed, and the reports rewritten when it completes again).
struct HeadlessFollower: Sendable {
    let client: OperatorClient
    let created: CreatedContext
    let keep: Bool
    /// Called each time the context becomes complete, with its final picture: writes reports, prints the summary.
    let onComplete: @Sendable (ContextDetail) async -> Void

    /// Follows until the context completes (or, with `keep`, until a graceful shutdown), or the process is asked
    /// to stop. Time limits are the broker's to enforce: a context past its deadline completes, with timed-out nodes.
    func follow() async -> FollowOutcome {
        let first: FollowOutcome? = await withTaskGroup(of: FollowOutcome?.self) { group in
            group.addTask { await followEvents() }
            group.addTask {
                try? await gracefulShutdown()
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let first { return first }
        return await UpSession.finalOutcome(client: client, context: created.context.id)
    }

    /// Prints the events of the context; returns `.complete` when it completes (without `keep`), nil when the
    /// stream ends otherwise.
    private func followEvents() async -> FollowOutcome? {
        let id = created.context.id
        var printer = ProgressPrinter(start: created.context.createdAt, nodes: created.context.nodes.map(\.name))
        var complete = false
        var completedOnce = false
        var announcedBlocks: Set<BlockedWait> = []
        var interrupted = false
        do {
            for try await element in client.events(context: id, after: created.context.sequence) {
                switch element {
                case .event(let event):
                    if let line = printer.line(for: event) { Output.line(line) }
                    switch event.change {
                    case .contextStatus(let status):
                        if status.complete && !complete {
                            complete = true
                            let detail = try await client.context(id)
                            await onComplete(detail)
                            if !keep { return .complete(detail.context.status) }
                            if !completedOnce {
                                Output.line(
                                    "muster up: --keep: the broker and the nodes stay up; `muster status`, `logs`, `retry` work from here. "
                                        + "Ctrl-C stops them."
                                )
                            }
                            completedOnce = true
                        } else if !status.complete {
                            complete = false
                        }
                    case .nodeState(let transition) where transition.to == .waiting || (transition.to.isTerminal && transition.to != .ok):
                        let blocked = Set(try await client.context(id).context.blockedWaits)
                        for block in blocked.subtracting(announcedBlocks).sorted(by: { $0.node < $1.node }) {
                            Output.line(printer.line(for: block, at: event.time))
                        }
                        announcedBlocks = blocked
                    default:
                        break
                    }
                case .connection(let state):
                    if state.isInterrupted {
                        interrupted = true
                        Output.error("muster up: broker \(state)")
                    } else if interrupted {
                        interrupted = false
                        Output.error("muster up: reconnected to the broker")
                    }
                }
            }
        } catch is CancellationError {
            return nil
        } catch {
            Output.error("muster up: lost the broker: \(error)")
        }
        return nil
    }
}
