import Foundation
import MusterCore

/// One node as the console keeps it: the fields of a ``NodeSnapshot`` that events update in place.
public struct ConsoleNode: Sendable, Hashable {
    /// The node name, `<workspace>-<n>`.
    public var name: String
    /// The index of its workspace in ``ConsoleModel/workspaces``.
    public var workspace: Int
    /// Its slot number within the workspace.
    public var slot: Int
    /// Its state.
    public var state: NodeState
    /// When it entered that state.
    public var since: Date
    /// How many times the slot was retried.
    public var generation: Int
    /// Its identities, once it has checked in (cleared by a retry).
    public var identities: [Identity]
    /// When it was released, if it was.
    public var releasedAt: Date?
    /// Its scripts so far, in order.
    public var timeline: [ScriptRun]
    /// The exit code of a failed or timed-out node.
    public var exitCode: Int?
    /// Why it failed, timed out or was killed.
    public var message: String?
    /// While it waits: the requirement labels (role names, `*` for every identity) it started waiting on.
    public var waitingOn: [String]
    /// When this attempt was launched, if known (events tell; a snapshot only for a first attempt).
    public var launchedAt: Date?
    /// When this attempt checked in, if known (events tell).
    public var registeredAt: Date?
    /// When this attempt finished (ok, failed, killed or timed out).
    public var finishedAt: Date?
    /// The machine behind the node (an EC2 instance), when a launcher reported one.
    public var machine: MachineDetails?

    /// Creates a node record from a snapshot of it.
    public init(_ snapshot: NodeSnapshot, workspace: Int, contextCreatedAt: Date? = nil) {
        name = snapshot.name
        self.workspace = workspace
        slot = snapshot.slot
        state = snapshot.state
        since = snapshot.since
        generation = snapshot.generation
        identities = snapshot.identities
        releasedAt = snapshot.releasedAt
        timeline = snapshot.timeline
        exitCode = snapshot.exitCode
        message = snapshot.message
        waitingOn = snapshot.state == .waiting ? snapshot.requirements.filter { !$0.isMet }.map(\.label) : []
        let boot = NodeBoot(snapshot, contextCreatedAt: contextCreatedAt ?? snapshot.since)
        launchedAt = contextCreatedAt == nil ? nil : boot.launchedAt
        finishedAt = boot.finishedAt
        machine = snapshot.machine
    }

    /// Creates a new pending slot.
    public init(name: String, workspace: Int, slot: Int, since: Date) {
        self.name = name
        self.workspace = workspace
        self.slot = slot
        state = .pending
        self.since = since
        generation = 0
        identities = []
        timeline = []
        waitingOn = []
    }

    /// The address of its first NIC, once known.
    public var ip: String? { identities.first?.ip }

    /// Whether its identity counts as registered (checked in and not killed), as the engine counts it.
    public var isRegistered: Bool { !identities.isEmpty && state != .killed }

    /// The script running now, if any.
    public var currentScript: ScriptRun? { timeline.last.flatMap { $0.finished == nil ? $0 : nil } }
}
