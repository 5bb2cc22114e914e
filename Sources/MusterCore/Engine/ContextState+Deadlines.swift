import Foundation

/// What the context's time limits (``ContextLimits``) call for: the engine says which commands are due at a
/// given time and when the next one will be; the broker, which owns the clock, performs them.
extension ContextState {
    /// The commands the limits call for at `now`: the lease ended (terminate the context), the deadline passed
    /// (time out every unfinished node), launched nodes that did not check in within the boot timeout (time them
    /// out). Empty for a terminated context.
    public func dueCommands(at now: Date) -> [EngineCommand] {
        guard !terminated, !limits.isEmpty else { return [] }
        if let end = limits.leaseEnds, end <= now { return [.leaseEnded(context: id)] }
        if let deadline = limits.completeBy, deadline <= now {
            return nodes.filter { !$0.state.isTerminal }.map {
                .timeOut(context: id, node: $0.name, message: "the context did not complete before its deadline")
            }
        }
        guard let seconds = limits.bootTimeoutSeconds else { return [] }
        let limit = TimeInterval(seconds)
        return nodes.compactMap { node in
            guard node.state == .launching || node.state == .booted, let launched = node.launchedAt, now.timeIntervalSince(launched) >= limit
            else { return nil }
            return .timeOut(context: id, node: node.name, message: "did not check in within \(seconds) s of its launch (boot timeout)")
        }
    }

    /// When ``dueCommands(at:)`` will next have something to do, if ever.
    public var nextDeadline: Date? {
        guard !terminated, !limits.isEmpty else { return nil }
        var next: Date?
        func consider(_ date: Date?) {
            if let date, next.map({ date < $0 }) ?? true { next = date }
        }
        consider(limits.leaseEnds)
        if !status.complete { consider(limits.completeBy) }
        if let seconds = limits.bootTimeoutSeconds {
            for node in nodes where node.state == .launching || node.state == .booted {
                consider(node.launchedAt?.addingTimeInterval(TimeInterval(seconds)))
            }
        }
        return next
    }
}
