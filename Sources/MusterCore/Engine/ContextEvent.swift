import Foundation

/// One change in a context, numbered. Sequence numbers increase by one across all contexts of an engine, so a
/// follower that has seen event N knows exactly what it has missed.
public struct ContextEvent: Sendable, Hashable {
    /// The event's position in the engine's history, starting at 1.
    public var sequence: UInt64
    /// When it happened (the time passed in with the command).
    public var time: Date
    /// The context it belongs to.
    public var context: ContextID
    /// What happened.
    public var change: ContextChange

    /// Creates an event.
    public init(sequence: UInt64, time: Date, context: ContextID, change: ContextChange) {
        self.sequence = sequence
        self.time = time
        self.context = context
        self.change = change
    }
}

/// What a ``ContextEvent`` reports.
public enum ContextChange: Sendable, Hashable {
    /// A context was created with these workspaces and nodes.
    case contextCreated(name: String, workspaces: [String], nodes: [String])
    /// A node slot was added to a workspace.
    case nodeAdded(node: String, workspace: String)
    /// A node slot was removed from a workspace (the operator scaled it down); the name is not used again.
    case nodeRemoved(node: String, workspace: String)
    /// A node moved to a new state.
    case nodeState(NodeTransition)
    /// A node reported its identities.
    case nodeRegistered(node: String, identities: [Identity])
    /// The counts of a role's providers changed.
    case roleProgress(RoleStatus)
    /// The number of registered nodes changed (what nodes that require all identities wait for).
    case registrationProgress(registered: Int, expected: Int)
    /// A node started a ctx-script.
    case scriptStarted(node: String, script: ScriptRef)
    /// A node finished a ctx-script.
    case scriptFinished(node: String, script: ScriptRef, exitCode: Int, seconds: Double)
    /// A provider joined (or changed its identity) after these requirers were released; they must hear of it.
    case providerJoined(node: String, roles: [String], requirers: [String])
    /// The context's overall status changed.
    case contextStatus(ContextStatus)
    /// The context was terminated.
    case contextTerminated
    /// The context's time limits were set.
    case contextLimits(ContextLimits)
    /// What the launcher knows of the machine behind a node changed.
    case nodeMachine(node: String, machine: MachineDetails)
    /// The context was deleted: the broker no longer knows it (its events, output and tokens are gone).
    case contextDeleted

    /// A short name for the kind of change (used as the SSE `event:` field).
    public var kind: String {
        switch self {
        case .contextCreated: "context-created"
        case .nodeAdded: "node-added"
        case .nodeRemoved: "node-removed"
        case .nodeState: "node-state"
        case .nodeRegistered: "node-registered"
        case .roleProgress: "role-progress"
        case .registrationProgress: "registration-progress"
        case .scriptStarted: "script-started"
        case .scriptFinished: "script-finished"
        case .providerJoined: "provider-joined"
        case .contextStatus: "context-status"
        case .contextTerminated: "context-terminated"
        case .contextLimits: "context-limits"
        case .nodeMachine: "node-machine"
        case .contextDeleted: "context-deleted"
        }
    }

    /// The node the change is about, if it is about one.
    public var node: String? {
        switch self {
        case .nodeAdded(let node, _), .nodeRemoved(let node, _), .nodeRegistered(let node, _), .scriptStarted(let node, _),
            .scriptFinished(let node, _, _, _),
            .providerJoined(let node, _, _), .nodeMachine(let node, _):
            node
        case .nodeState(let transition): transition.node
        default: nil
        }
    }
}

/// A node's move from one state to another, with what explains the new state.
public struct NodeTransition: Sendable, Hashable, Codable {
    /// The node.
    public var node: String
    /// The state it left.
    public var from: NodeState
    /// The state it entered.
    public var to: NodeState
    /// For `failed`, `timed-out`: the exit code.
    public var exitCode: Int?
    /// For `failed`, `timed-out`, `killed`: why.
    public var message: String?
    /// For `waiting`: the requirements not yet met (role names, or `*` for all identities).
    public var waitingOn: [String]?

    /// Creates a transition.
    public init(node: String, from: NodeState, to: NodeState, exitCode: Int? = nil, message: String? = nil, waitingOn: [String]? = nil) {
        self.node = node
        self.from = from
        self.to = to
        self.exitCode = exitCode
        self.message = message
        self.waitingOn = waitingOn
    }
}

/// The engine's instruction to the world outside it, returned with the events of a command.
public enum EngineAction: Sendable, Hashable {
    /// Start the node (a new process or VM). `generation` counts retries of the slot, from 0.
    case launch(context: ContextID, node: String, generation: Int)
    /// Stop the node's process or VM.
    case stop(context: ContextID, node: String)
    /// The node's requirements are met: answer its waiting long-poll.
    case release(context: ContextID, node: String)
    /// These released nodes have a newer answer (a provider joined or changed): wake their long-polls.
    case notify(context: ContextID, nodes: [String])
}
