/// The main views of the console.
public enum ConsoleView: String, Sendable, Hashable, CaseIterable {
    /// Every context on the broker.
    case contexts
    /// Context › workspace › node.
    case tree
    /// One node: identity, requirements, timeline, output.
    case detail
    /// Waiting nodes grouped by what they wait for.
    case waits
    /// The event log.
    case events
    /// Each node's boot as a bar over time, with the critical chain.
    case timeline

    /// The key scopes that apply, most specific first.
    var keyScopes: [KeyScope] {
        switch self {
        case .contexts: [.contexts, .lists, .global]
        case .tree: [.tree, .nodes, .lists, .global]
        case .detail: [.detail, .nodes, .global]
        case .waits: [.waits, .nodes, .lists, .global]
        case .events: [.events, .lists, .global]
        case .timeline: [.timeline, .nodes, .lists, .global]
        }
    }

    /// Whether its rows are nodes (so that node keys act on the selected one).
    var showsNodes: Bool { self == .tree || self == .detail || self == .waits || self == .timeline }
}
