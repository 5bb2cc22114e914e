import MusterCore

/// Names one node of one context, as a dictionary key.
struct NodeKey: Hashable, Sendable, CustomStringConvertible {
    var context: ContextID
    var node: String

    var description: String { "\(context)/\(node)" }
}
