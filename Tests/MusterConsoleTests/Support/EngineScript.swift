import Foundation
import MusterCore

@testable import MusterConsole

/// Drives a real ``ContextEngine`` through a cluster boot for console tests: every command advances the clock
/// by one second, and the events it causes are kept until a test takes them.
struct EngineScript {
    var engine = ContextEngine()
    let context: ContextID
    var now = Date(timeIntervalSince1970: 1_700_000_000)
    private(set) var pending: [ContextEvent] = []

    init(document: ClusterDocument, context: ContextID = "ctx-1", name: String = "cpe") throws {
        self.context = context
        try apply(.createContext(id: context, name: name, document: document))
    }

    /// The CPE example from the repository (one rabbitmq-head, three nodes that require it and every identity).
    static func cpeDocument() throws -> ClusterDocument {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/cpe/cluster.xml")
        return try ClusterDocumentParser.document(from: Array(try Data(contentsOf: url)))
    }

    mutating func apply(_ command: EngineCommand) throws {
        now += 1
        pending += try engine.apply(command, at: now).events
    }

    /// The events since the last call.
    mutating func takeEvents() -> [ContextEvent] {
        defer { pending = [] }
        return pending
    }

    func snapshot() throws -> ContextSnapshot { try engine.snapshot(of: context) }

    var nodeNames: [String] { engine.contexts[context]!.nodeNames }

    /// Each node gets the next address the first time it asks (O(1), so ten thousand nodes stay quick).
    private var addresses: [String: Int] = [:]

    mutating func identities(for node: String) throws -> [Identity] {
        let spec = try engine.contexts[context]!.workspaceSpec(ofNode: node)
        let index = addresses[node] ?? addresses.count
        addresses[node] = index
        return spec.nics.map { nic in
            Identity(
                interface: nic.label,
                ip: "10.0.\(index / 250).\(index % 250 + 1)",
                hostname: "\(node).\(context).muster.local",
                pubkey: SSHPublicKey(ed25519: (0..<32).map { UInt8(truncatingIfNeeded: index &* 131 &+ $0 &* 7 &+ 1) }, comment: "root@\(node)").line
            )
        }
    }

    mutating func launch(_ node: String) throws { try apply(.launch(context: context, node: node)) }
    mutating func boot(_ node: String) throws { try apply(.booted(context: context, node: node)) }
    mutating func checkIn(_ node: String) throws { try apply(.checkIn(context: context, node: node, identities: try identities(for: node))) }

    /// Launches and boots a node.
    mutating func start(_ node: String) throws {
        try launch(node)
        try boot(node)
    }

    /// Runs one script to completion.
    mutating func run(_ node: String, phase: Int, script: String, arguments: [String] = [], exitCode: Int = 0) throws {
        let reference = ScriptRef(phase: phase, script: script, arguments: arguments)
        try apply(.scriptStarted(context: context, node: node, script: reference))
        try apply(.scriptFinished(context: context, node: node, script: reference, exitCode: exitCode))
    }

    mutating func startScript(_ node: String, phase: Int, script: String, arguments: [String] = []) throws {
        try apply(.scriptStarted(context: context, node: node, script: ScriptRef(phase: phase, script: script, arguments: arguments)))
    }

    mutating func reportOK(_ node: String) throws { try apply(.report(context: context, node: node, result: .ok)) }

    mutating func reportError(_ node: String, code: Int, message: String) throws {
        try apply(.report(context: context, node: node, result: .error(code: code, message: message)))
    }

    mutating func kill(_ node: String) throws { try apply(.kill(context: context, node: node)) }
    mutating func retry(_ node: String) throws { try apply(.retry(context: context, node: node)) }
    mutating func addNodes(_ workspace: String, _ count: Int) throws { try apply(.addNodes(context: context, workspace: workspace, count: count)) }
}
