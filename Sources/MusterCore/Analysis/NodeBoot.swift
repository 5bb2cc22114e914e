import Foundation

/// One node's current attempt as a boot timeline sees it: when it was launched, checked in, released and
/// finished, the scripts it ran, and what its release waited for.
///
/// Built from a ``NodeSnapshot`` (which lacks the launch and check-in times of the attempt) and refined with the
/// context's events (``apply(_:at:)``), which carry every transition's time. Pure value, no clock.
public struct NodeBoot: Sendable, Hashable, Codable {
    /// A requirement the node's release waited for.
    public struct Wait: Sendable, Hashable, Codable {
        /// The role name, or `*` for every node's identity.
        public var label: String
        /// Registration or readiness.
        public var wait: WaitCondition
        /// Since when it is met, if it is.
        public var metSince: Date?

        /// Creates a wait.
        public init(label: String, wait: WaitCondition, metSince: Date?) {
            self.label = label
            self.wait = wait
            self.metSince = metSince
        }
    }

    /// The node name.
    public var name: String
    /// Its workspace.
    public var workspace: String
    /// Its state now.
    public var state: NodeState
    /// When this attempt was launched (entered `launching`), if known.
    public var launchedAt: Date?
    /// When it checked in (reported its identity), if known.
    public var registeredAt: Date?
    /// When it was released.
    public var releasedAt: Date?
    /// When it finished (entered ok, failed, killed or timed-out).
    public var finishedAt: Date?
    /// Its scripts, in order.
    public var scripts: [ScriptRun]
    /// What its release waited for.
    public var waits: [Wait]

    /// Creates a record.
    public init(
        name: String,
        workspace: String,
        state: NodeState,
        launchedAt: Date? = nil,
        registeredAt: Date? = nil,
        releasedAt: Date? = nil,
        finishedAt: Date? = nil,
        scripts: [ScriptRun] = [],
        waits: [Wait] = []
    ) {
        self.name = name
        self.workspace = workspace
        self.state = state
        self.launchedAt = launchedAt
        self.registeredAt = registeredAt
        self.releasedAt = releasedAt
        self.finishedAt = finishedAt
        self.scripts = scripts
        self.waits = waits
    }

    /// A record from a snapshot: the finish time is the time of the terminal state; the launch time is the
    /// context's creation for a first attempt that was launched at once (events refine both).
    public init(_ node: NodeSnapshot, contextCreatedAt: Date) {
        self.init(
            name: node.name,
            workspace: node.workspace,
            state: node.state,
            launchedAt: node.state == .pending || node.generation > 0 ? nil : contextCreatedAt,
            registeredAt: nil,
            releasedAt: node.releasedAt,
            finishedAt: node.state.isTerminal ? node.since : nil,
            scripts: node.timeline,
            waits: node.requirements.map { Wait(label: $0.label, wait: $0.wait, metSince: $0.metSince) }
        )
    }

    /// Takes in one event about this node (events of other nodes are ignored): transitions set the times of the
    /// current attempt, and a retry starts a new attempt.
    public mutating func apply(_ change: ContextChange, at time: Date) {
        guard change.node == name else { return }
        switch change {
        case .nodeState(let transition):
            state = transition.to
            switch transition.to {
            case .launching:
                if transition.from.isRetryable {
                    registeredAt = nil
                    releasedAt = nil
                    finishedAt = nil
                    scripts = []
                }
                launchedAt = time
            case .configuring:
                releasedAt = releasedAt ?? time
            case .ok, .failed, .killed, .timedOut:
                finishedAt = time
            default:
                break
            }
        case .nodeRegistered:
            registeredAt = registeredAt ?? time
        case .scriptStarted(_, let script):
            if let last = scripts.last, last.finished == nil, last.script == script { break }
            // History replayed over a snapshot: the snapshot already holds this attempt's runs, with these times.
            if scripts.contains(where: { $0.script == script && $0.started == time }) { break }
            scripts.append(ScriptRun(script: script, started: time))
        case .scriptFinished(_, let script, let exitCode, _):
            guard let run = scripts.lastIndex(where: { $0.script == script }) else { break }
            scripts[run].finished = time
            scripts[run].exitCode = exitCode
        default:
            break
        }
    }

    /// The slowest finished script, if any.
    public var slowestScript: ScriptRun? {
        scripts.filter { $0.finished != nil }.max { $0.duration < $1.duration }
    }
}

extension ScriptRun {
    /// How long the script ran (0 while it runs).
    public var duration: TimeInterval { finished.map { $0.timeIntervalSince(started) } ?? 0 }
}
