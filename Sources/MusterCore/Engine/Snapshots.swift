import Foundation

/// One requirement of a node and how far it is from being met.
public struct RequirementStatus: Sendable, Hashable, Codable {
    /// What is required.
    public enum Kind: Sendable, Hashable {
        /// The providers of a role.
        case role(String)
        /// Every node's identity (`<requires><identity/>`).
        case allIdentities
    }

    /// The required role, or `nil` for every node's identity (`<requires><identity/>`).
    public var role: String?
    /// Registration or readiness.
    public var wait: WaitCondition
    /// Providers (or nodes) present.
    public var filled: Int
    /// Providers (or nodes) expected.
    public var expected: Int
    /// The first few nodes still missing (not present under ``wait``), in slot order; at most
    /// ``ContextState/missingNamesLimit`` are named.
    public var missing: [String]
    /// Since when the requirement is met, if it is.
    public var metSince: Date?

    /// Creates a requirement status.
    public init(kind: Kind, wait: WaitCondition, filled: Int, expected: Int, missing: [String], metSince: Date?) {
        switch kind {
        case .role(let name): self.role = name
        case .allIdentities: self.role = nil
        }
        self.wait = wait
        self.filled = filled
        self.expected = expected
        self.missing = missing
        self.metSince = metSince
    }

    /// What is required.
    public var kind: Kind { role.map(Kind.role) ?? .allIdentities }

    /// Whether the requirement is met.
    public var isMet: Bool { expected > 0 && filled >= expected }

    /// The requirement's label: the role name, or `*` for all identities.
    public var label: String { role ?? "*" }
}

/// One ctx-script run on a node: the phase timeline the console shows.
public struct ScriptRun: Sendable, Hashable, Codable {
    /// Which script, with which arguments.
    public var script: ScriptRef
    /// When it started.
    public var started: Date
    /// When it finished, if it has.
    public var finished: Date?
    /// Its exit code, if it has finished.
    public var exitCode: Int?

    /// Creates a script run.
    public init(script: ScriptRef, started: Date, finished: Date? = nil, exitCode: Int? = nil) {
        self.script = script
        self.started = started
        self.finished = finished
        self.exitCode = exitCode
    }
}

/// Everything an operator view shows about one node. Data values are not part of it.
public struct NodeSnapshot: Sendable, Hashable, Codable {
    /// The node name, `<workspace>-<n>`.
    public var name: String
    /// Its workspace.
    public var workspace: String
    /// Its slot number within the workspace.
    public var slot: Int
    /// Its state.
    public var state: NodeState
    /// When it entered that state.
    public var since: Date
    /// How many times the slot was retried.
    public var generation: Int
    /// Its identities, once it has checked in.
    public var identities: [Identity]
    /// Its requirements and how far each is from being met.
    public var requirements: [RequirementStatus]
    /// When it was released (its answer became available), if it was.
    public var releasedAt: Date?
    /// The version of its answer (0 before release; grows as providers join later).
    public var answerVersion: Int
    /// Its scripts so far, in order.
    public var timeline: [ScriptRun]
    /// The exit code of a failed or timed-out node.
    public var exitCode: Int?
    /// Why it failed, timed out or was killed.
    public var message: String?

    /// The script running now, if any.
    /// What the launcher said of the machine behind the node (cloud launchers), if anything.
    public var machine: MachineDetails? = nil

    public var currentScript: ScriptRun? { timeline.last.flatMap { $0.finished == nil ? $0 : nil } }
}

/// A workspace as it is now (its quantity grows when nodes are added).
public struct WorkspaceSnapshot: Sendable, Hashable, Codable {
    /// The workspace name.
    public var name: String
    /// Its image.
    public var image: String
    /// Its NICs.
    public var nics: [NICSpec]
    /// The roles it provides.
    public var roles: [String]
    /// Whether its nodes share their identity.
    public var sharesIdentity: Bool
    /// What its nodes require (roles and all-identities; data by name only).
    public var requiredRoles: [RequiredRole]
    /// Whether its nodes require every identity.
    public var requiresAllIdentities: Bool
    /// The names of the data values its nodes receive (never the values).
    public var dataNames: [String]
    /// Its nodes, in slot order.
    public var nodes: [String]
}

/// A consistent picture of one context at one event sequence number.
public struct ContextSnapshot: Sendable, Hashable, Codable {
    /// The context id.
    public var id: ContextID
    /// Its human name.
    public var name: String
    /// When it was created.
    public var createdAt: Date
    /// The last event sequence number this snapshot includes.
    public var sequence: UInt64
    /// Its overall status.
    public var status: ContextStatus
    /// Its workspaces in document order.
    public var workspaces: [WorkspaceSnapshot]
    /// Every role with its provider counts, by name.
    public var roles: [RoleStatus]
    /// Every node in workspace then slot order.
    public var nodes: [NodeSnapshot]
    /// Its time limits, if it has any.
    public var limits: ContextLimits? = nil
}
