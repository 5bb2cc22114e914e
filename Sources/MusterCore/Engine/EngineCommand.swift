import Foundation

/// One input to the ``ContextEngine``. Commands are values, so a broker can store them and replay them to
/// rebuild exactly the same state (with the same event sequence numbers) after a restart.
public enum EngineCommand: Sendable, Hashable, Codable {
    /// Create a context from a document: one `pending` slot per node.
    case createContext(id: ContextID, name: String, document: ClusterDocument)
    /// Add `count` new `pending` slots to a workspace of a running context.
    case addNodes(context: ContextID, workspace: String, count: Int)
    /// Remove slots that have nothing running (`pending`, `failed`, `killed`, `timed-out`): the workspace shrinks,
    /// and what its requirers wait for with it. Their names are never used again in the context.
    case removeNodes(context: ContextID, nodes: [String])
    /// The launcher is starting the node (`pending` → `launching`).
    case launch(context: ContextID, node: String)
    /// The launcher reports the node's process or VM is up (`launching` → `booted`).
    case booted(context: ContextID, node: String)
    /// The launcher could not start the node.
    case launchFailed(context: ContextID, node: String, message: String)
    /// The node's agent reports its identity, one per NIC.
    case checkIn(context: ContextID, node: String, identities: [Identity])
    /// The agent started a ctx-script.
    case scriptStarted(context: ContextID, node: String, script: ScriptRef)
    /// The agent finished a ctx-script.
    case scriptFinished(context: ContextID, node: String, script: ScriptRef, exitCode: Int)
    /// The agent reports its final result.
    case report(context: ContextID, node: String, result: NodeResult)
    /// The operator (or the context's end) stops a node.
    case kill(context: ContextID, node: String)
    /// Start a failed, killed or timed-out node again in the same slot, with a new identity to come.
    case retry(context: ContextID, node: String)
    /// A node did not finish before its deadline.
    case timeOut(context: ContextID, node: String, message: String)
    /// End the context: every unfinished node is killed and no further input is accepted.
    case terminate(context: ContextID)
    /// Set the context's time limits (boot timeout, lease, deadline); the broker enforces them.
    case setLimits(context: ContextID, limits: ContextLimits)
    /// The context's lease ended: it is terminated, its nodes stopped (as ``terminate(context:)``, saying why).
    case leaseEnded(context: ContextID)
    /// What the launcher knows of the machine behind a node changed (instance id, provider state, addresses).
    case machine(context: ContextID, node: String, details: MachineDetails)
    /// Forget the context: it must be terminated or have no node still running. Its id may be used again.
    case deleteContext(context: ContextID)

    /// The context the command is about.
    public var context: ContextID {
        switch self {
        case .createContext(let id, _, _): id
        case .addNodes(let context, _, _), .removeNodes(let context, _), .launch(let context, _), .booted(let context, _),
            .launchFailed(let context, _, _),
            .checkIn(let context, _, _), .scriptStarted(let context, _, _), .scriptFinished(let context, _, _, _),
            .report(let context, _, _), .kill(let context, _), .retry(let context, _), .timeOut(let context, _, _),
            .terminate(let context), .setLimits(let context, _), .leaseEnded(let context), .machine(let context, _, _),
            .deleteContext(let context):
            context
        }
    }
}

/// A node's final word about its scripts.
public enum NodeResult: Sendable, Hashable, Codable {
    /// Every script finished OK.
    case ok
    /// Something failed: an exit code (see ``NodeExitCode``) and a message.
    case error(code: Int, message: String)
}

/// Names one run of one ctx-script: which phase, which script file, with which arguments.
public struct ScriptRef: Sendable, Hashable, Codable {
    /// The phase, 0–5 (see the script phase table in the README).
    public var phase: Int
    /// The script's path relative to the ctx-scripts folder (for example `1-ipandhost/rabbitmq-head`), or a
    /// built-in step's name.
    public var script: String
    /// The arguments it runs with.
    public var arguments: [String]

    /// Creates a script reference.
    public init(phase: Int, script: String, arguments: [String] = []) {
        self.phase = phase
        self.script = script
        self.arguments = arguments
    }
}
