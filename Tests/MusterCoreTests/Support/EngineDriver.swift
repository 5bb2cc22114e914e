import Foundation
import Testing

@testable import MusterCore

/// Drives a real ``ContextEngine`` for one context in tests, with a clock that advances one second per command,
/// and keeps every event and action so tests can assert on what happened.
struct EngineDriver {
    var engine = ContextEngine()
    let context: ContextID
    var now = Date(timeIntervalSince1970: 1_700_000_000)
    var events: [ContextEvent] = []
    var actions: [EngineAction] = []
    var commands: [(EngineCommand, Date)] = []

    init(_ document: ClusterDocument, context: ContextID = "ctx") throws {
        self.context = context
        try apply(.createContext(id: context, name: "test", document: document))
    }

    init(xml: String, context: ContextID = "ctx") throws {
        try self.init(try ClusterDocumentParser.document(from: Array(xml.utf8)), context: context)
    }

    @discardableResult
    mutating func apply(_ command: EngineCommand) throws -> EngineOutcome {
        now += 1
        let outcome = try engine.apply(command, at: now)
        commands.append((command, now))
        events += outcome.events
        actions += outcome.actions
        return outcome
    }

    var state: ContextState { engine.contexts[context]! }

    func node(_ name: String) throws -> NodeSnapshot { try state.node(name) }

    func answer(_ name: String) throws -> NodeAnswer? { try state.answer(for: name) }

    /// The identity a node checks in with: one per NIC, with a distinct address per node.
    func identities(for name: String) throws -> [Identity] {
        let spec = try state.workspaceSpec(ofNode: name)
        let index = state.nodeNames.firstIndex(of: name)!
        return spec.nics.enumerated().map { nic, spec in
            Identity(
                interface: spec.label,
                ip: "10.\(nic).\(index / 250).\(index % 250 + 1)",
                hostname: "\(name).\(context).muster.local",
                pubkey: TestKeys.ed25519(index * 16 + nic, comment: "root@\(name)")
            )
        }
    }

    /// Launches, boots and checks in a node.
    mutating func bringUp(_ name: String) throws {
        if try node(name).state == .pending { try apply(.launch(context: context, node: name)) }
        try apply(.booted(context: context, node: name))
        try apply(.checkIn(context: context, node: name, identities: try identities(for: name)))
    }

    mutating func checkIn(_ name: String) throws {
        try apply(.checkIn(context: context, node: name, identities: try identities(for: name)))
    }

    mutating func reportOK(_ name: String) throws {
        try apply(.report(context: context, node: name, result: .ok))
    }

    /// The nodes released by the actions so far, in order.
    var released: [String] {
        actions.compactMap { if case .release(_, let node) = $0 { node } else { nil } }
    }

    /// The nodes notified of new providers by the actions so far.
    var notified: [[String]] {
        actions.compactMap { if case .notify(_, let nodes) = $0 { nodes } else { nil } }
    }

    mutating func clearRecord() {
        events = []
        actions = []
    }
}
