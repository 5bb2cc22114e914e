import Foundation
import MusterCore

/// One line of the console's event log: a broker event, or the result of an operator action.
public struct EventLogEntry: Sendable, Hashable {
    /// How the entry is shown.
    public enum Severity: Sendable, Hashable {
        /// Ordinary progress.
        case info
        /// Something finished well (a node ok, an action done).
        case success
        /// Something the operator may want to look at (a node killed).
        case warning
        /// Something failed.
        case error
    }

    /// The event's sequence number; nil for the console's own entries.
    public var sequence: UInt64?
    /// When it happened.
    public var time: Date
    /// The kind of change (`node-state`, …, or `action`).
    public var kind: String
    /// The node it is about, if any (Enter on the entry opens that node).
    public var node: String?
    /// One line of text.
    public var text: String
    /// How it is shown.
    public var severity: Severity

    /// Creates an entry.
    public init(sequence: UInt64?, time: Date, kind: String, node: String?, text: String, severity: Severity) {
        self.sequence = sequence
        self.time = time
        self.kind = kind
        self.node = node
        self.text = text
        self.severity = severity
    }

    /// Describes a broker event in one line. Cost is proportional to the event, never to the context.
    public init(_ event: ContextEvent) {
        var severity = Severity.info
        let text: String
        switch event.change {
        case .contextCreated(let name, let workspaces, let nodes):
            text = "context \(name) created: \(Plural.count(workspaces.count, "workspace")), \(Plural.count(nodes.count, "node"))"
        case .nodeAdded(let node, let workspace):
            text = "\(node) added to \(workspace)"
        case .nodeRemoved(let node, let workspace):
            text = "\(node) removed from \(workspace)"
            severity = .warning
        case .nodeState(let transition):
            var line = "\(transition.node) \(transition.from.rawValue) → \(transition.to.rawValue)"
            if let waiting = transition.waitingOn, !waiting.isEmpty {
                line += " (waits: \(waiting.map(RequirementLabel.display).joined(separator: ", ")))"
            }
            if let code = transition.exitCode { line += " exit \(code)" }
            if let message = transition.message { line += ": \(message)" }
            text = line
            switch transition.to {
            case .failed, .timedOut: severity = .error
            case .killed: severity = .warning
            case .ok: severity = .success
            default: break
            }
        case .nodeRegistered(let node, let identities):
            let addresses = identities.map { "\($0.interface) \($0.ip) \($0.hostname)" }.joined(separator: ", ")
            text = "\(node) registered \(addresses)"
        case .roleProgress(let status):
            text = "role \(status.role): \(status.registered)/\(status.expected) registered, \(status.ready)/\(status.expected) ready"
        case .registrationProgress(let registered, let expected):
            text = "registered \(registered)/\(expected) nodes"
        case .scriptStarted(let node, let script):
            text = "\(node) runs \(script.script)\(script.arguments.isEmpty ? "" : " " + script.arguments.joined(separator: " "))"
        case .scriptFinished(let node, let script, let exitCode, let seconds):
            text = "\(node) finished \(script.script): exit \(exitCode) in \(DurationText.precise(seconds))"
            if exitCode != 0 { severity = .error }
        case .providerJoined(let node, let roles, let requirers):
            let what = roles.isEmpty ? "its identity" : roles.joined(separator: ", ")
            text = "\(node) joined late (\(what)); \(requirers.count) released node\(requirers.count == 1 ? "" : "s") told"
        case .contextStatus(let status):
            var parts = ["registered \(status.registered)/\(status.expected)"]
            if status.complete { parts.append("complete") }
            if status.allOk { parts.append("all ok") }
            if status.errorPresent { parts.append("errors present") }
            text = "status: " + parts.joined(separator: ", ")
            if status.complete { severity = status.errorPresent ? .error : (status.allOk ? .success : .warning) }
        case .contextTerminated:
            text = "context terminated"
            severity = .warning
        case .contextDeleted:
            text = "context deleted"
            severity = .warning
        case .contextLimits(let limits):
            var parts: [String] = []
            if let seconds = limits.bootTimeoutSeconds { parts.append("boot timeout \(DurationText.precise(Double(seconds)))") }
            if let end = limits.leaseEnds { parts.append("lease ends in \(DurationText.precise(end.timeIntervalSince(event.time)))") }
            if let end = limits.completeBy { parts.append("deadline in \(DurationText.precise(end.timeIntervalSince(event.time)))") }
            text = "limits: " + parts.joined(separator: ", ")
        case .nodeMachine(let node, let machine):
            text = "\(node) machine \(machine.instanceID) \(machine.state)" + ((machine.publicIP ?? machine.privateIP).map { " at \($0)" } ?? "")
        }
        self.init(sequence: event.sequence, time: event.time, kind: event.change.kind, node: event.change.node, text: text, severity: severity)
    }
}

/// How requirement labels read on screen: `*` (every node's identity) reads `identities`.
enum RequirementLabel {
    static func display(_ label: String) -> String { label == "*" ? "identities" : label }
}
