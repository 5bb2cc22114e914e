import Foundation
import MusterCore

/// Turns a context's events into one line per meaningful transition, for `muster up --headless` and for
/// output that is not a terminal.
struct ProgressPrinter {
    let start: Date
    let nameWidth: Int
    private var addresses: [String: String] = [:]

    init(start: Date, nodes: [String]) {
        self.start = start
        self.nameWidth = min(32, nodes.map(\.count).max() ?? 10)
    }

    /// The line for an event, or nil when it is not worth a line.
    mutating func line(for event: ContextEvent) -> String? {
        switch event.change {
        case .nodeRegistered(let node, let identities):
            addresses[node] = identities.first?.ip
            return nil
        case .nodeState(let transition):
            guard let text = describe(transition) else { return nil }
            return row(event.time, transition.node, text)
        case .providerJoined(let node, let roles, let requirers):
            let what = roles.isEmpty ? "its identity" : "role \(roles.joined(separator: ", "))"
            return row(event.time, node, "joined late (\(what)); told \(requirers.count) node\(requirers.count == 1 ? "" : "s")")
        case .nodeAdded(let node, let workspace):
            return row(event.time, node, "added to \(workspace)")
        case .nodeRemoved(let node, let workspace):
            return row(event.time, node, "removed from \(workspace)")
        case .scriptFinished(let node, let script, let exitCode, let seconds) where exitCode != 0:
            return row(event.time, node, "\(TerminalText.inert(script.script)) exited \(exitCode) after \(HumanDuration.text(seconds))")
        default:
            return nil
        }
    }

    /// A line about a node that no event says: why it cannot be released.
    func line(for blocked: BlockedWait, at time: Date) -> String {
        let what = blocked.requirement == "*" ? "every identity" : "\(blocked.requirement)\(blocked.wait == .ready ? " (ready)" : "")"
        let why = blocked.blockers.map { "\($0.node) \($0.state.rawValue)\($0.exitCode.map { " (exit \($0))" } ?? "")" }
        let retry = blocked.blockers.map { "muster retry \($0.node)" }.joined(separator: ", ")
        return row(time, blocked.node, "cannot be released: waits on \(what), but \(why.joined(separator: ", ")); \(retry) to go on")
    }

    private func describe(_ transition: NodeTransition) -> String? {
        switch transition.to {
        case .launching where transition.from.isTerminal:
            return "retrying"
        case .pending, .launching, .booted:
            return nil
        case .registered:
            return "checked in" + (addresses[transition.node].map { " at \($0)" } ?? "")
        case .waiting:
            let on = (transition.waitingOn ?? []).map { $0 == "*" ? "every identity" : $0 }
            return "waits on " + on.joined(separator: ", ")
        case .configuring:
            return "released, configuring"
        case .ok:
            return "ok"
        case .failed, .timedOut:
            let code = transition.exitCode.map { " (exit \($0))" } ?? ""
            return "\(transition.to.rawValue)\(code): \(firstLine(transition.message))"
        case .killed:
            return "killed" + (transition.message.map { ": \(firstLine($0))" } ?? "")
        }
    }

    /// The first line of a message (failure messages carry the tail of the output on the lines after it).
    private func firstLine(_ message: String?) -> String {
        TerminalText.inert(String((message ?? "").prefix { $0 != "\n" }))
    }

    private func row(_ time: Date, _ node: String, _ text: String) -> String {
        let elapsed = String(format: "%6.1fs", time.timeIntervalSince(start))
        let padded = node.count >= nameWidth ? node : node + String(repeating: " ", count: nameWidth - node.count)
        return "\(elapsed)  \(padded)  \(text)"
    }
}
