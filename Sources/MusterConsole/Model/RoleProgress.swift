import Foundation
import MusterCore

/// A role's live provider counts, with since when its providers are all present.
public struct RoleProgress: Sendable, Hashable {
    /// The counts, as the last `roleProgress` event (or the snapshot) told them.
    public var status: RoleStatus
    /// Since when every provider has registered, while that holds.
    public var registeredSince: Date?
    /// Since when every provider is ready (scripts done), while that holds.
    public var readySince: Date?
    /// The workspaces whose nodes provide the role (where to look for missing providers).
    public var providerWorkspaces: [Int]

    /// Whether the role counts as present under `wait`.
    public func isMet(for wait: WaitCondition) -> Bool { status.isMet(for: wait) }

    /// Since when the role counts as present under `wait`, if it does.
    public func metSince(for wait: WaitCondition) -> Date? { wait == .ready ? readySince : registeredSince }

    /// Takes new counts reported at `time`, keeping the since-dates of what stays met.
    mutating func update(_ new: RoleStatus, at time: Date) {
        status = new
        registeredSince = new.isMet(for: .registered) ? (registeredSince ?? time) : nil
        readySince = new.isMet(for: .ready) ? (readySince ?? time) : nil
    }
}

/// How many nodes of the context have registered: what nodes that require every identity wait for.
public struct RegistrationProgress: Sendable, Hashable {
    /// Nodes registered.
    public var registered: Int
    /// Nodes in the context.
    public var expected: Int
    /// Since when every node has registered, while that holds.
    public var completeSince: Date?

    /// Whether every node has registered.
    public var isComplete: Bool { expected > 0 && registered >= expected }
}
