/// The main views of the console.
public enum ConsoleView: String, Sendable, Hashable, CaseIterable {
    /// Context › workspace › node.
    case tree
    /// One node: identity, requirements, timeline, output.
    case detail
    /// Waiting nodes grouped by what they wait for.
    case waits
    /// The event log.
    case events

    /// The key scopes that apply, most specific first.
    var keyScopes: [KeyScope] {
        switch self {
        case .tree: [.tree, .lists, .global]
        case .detail: [.detail, .global]
        case .waits: [.waits, .lists, .global]
        case .events: [.events, .lists, .global]
        }
    }
}
