/// Why the engine refused an input. Nothing changes when an input is refused.
public struct EngineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of refusal; a broker maps each to an HTTP status.
    public enum Code: String, Sendable, Hashable, Codable {
        /// No context with that id.
        case unknownContext = "unknown-context"
        /// No node with that name in the context.
        case unknownNode = "unknown-node"
        /// No workspace with that name in the context.
        case unknownWorkspace = "unknown-workspace"
        /// A context with that id exists already.
        case duplicateContext = "duplicate-context"
        /// The input does not fit the node's or context's current state (for example reporting ok while waiting).
        case conflict
        /// The input itself is malformed (for example an identity for a NIC the node does not have).
        case invalidInput = "invalid-input"
    }

    /// The kind of refusal.
    public var code: Code
    /// What was refused and why, for a person.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
