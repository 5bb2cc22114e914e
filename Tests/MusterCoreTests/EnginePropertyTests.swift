import Foundation
import MusterFuzz
import Testing

@testable import MusterCore

/// Random documents and random orders of inputs: the engine must always end complete and consistent, and its
/// incremental bookkeeping must agree with a recount from scratch after every step.
@Suite("Context engine properties")
struct EnginePropertyTests {
    /// A random valid document: roles provided by random workspaces, required with registration waits by any and
    /// readiness waits only on workspaces earlier in the list (so readiness waits never form a cycle).
    static func randomDocument(_ random: inout SplitMix64) -> ClusterDocument {
        let count = Int(random.next() % 5) + 1
        var workspaces: [WorkspaceSpec] = []
        for index in 0..<count {
            let nicCount = random.next() % 4 == 0 ? 2 : 1
            let nics = (0..<nicCount).map { NICSpec(network: "net\($0)", interface: "eth\($0)") }
            var provides = ProvidesSpec(identities: random.next() % 5 == 0 ? [] : [ProvidedIdentity()])
            if random.next() % 3 != 0 {
                provides.roles.append(ProvidedRole(name: "role\(index)", interface: nics.count > 1 && random.next() % 2 == 0 ? "eth1" : nil))
            }
            workspaces.append(
                WorkspaceSpec(name: "w\(index)", image: "img", quantity: Int(random.next() % 4) + 1, nics: nics, provides: provides)
            )
        }
        for index in workspaces.indices {
            var requires = RequiresSpec(allIdentities: random.next() % 3 == 0)
            for (other, provider) in workspaces.enumerated() where !provider.provides.roles.isEmpty && random.next() % 2 == 0 {
                let ready = other < index && random.next() % 3 == 0
                requires.roles.append(
                    RequiredRole(name: provider.provides.roles[0].name, hostname: true, pubkey: true, wait: ready ? .ready : .registered)
                )
            }
            if random.next() % 3 == 0 { requires.data.append(DataSpec(name: "d\(index)", value: "secret-\(index)")) }
            workspaces[index].requires = requires
        }
        return ClusterDocument(workspaces: workspaces)
    }

    /// Checks every invariant of a context against a recount from its nodes.
    static func checkInvariants(_ state: ContextState, document: ClusterDocument, sourceLocation: SourceLocation = #_sourceLocation) {
        let nodes = state.snapshot(sequence: 0).nodes
        var counts: [NodeState: Int] = [:]
        for node in nodes { counts[node.state, default: 0] += 1 }
        #expect(state.status.counts == counts, sourceLocation: sourceLocation)
        let registered = nodes.filter { !$0.identities.isEmpty && $0.state != .killed }
        #expect(state.status.registered == registered.count, sourceLocation: sourceLocation)
        for role in state.roleStatuses {
            let providers = nodes.filter { node in
                state.workspaceSpecs.first { $0.name == node.workspace }!.provides.roles.contains { $0.name == role.role }
            }
            #expect(role.expected == providers.count, sourceLocation: sourceLocation)
            #expect(role.registered == providers.filter { !$0.identities.isEmpty && $0.state != .killed }.count, sourceLocation: sourceLocation)
            #expect(role.ready == providers.filter { $0.state == .ok }.count, sourceLocation: sourceLocation)
        }
        for node in nodes {
            let met = node.requirements.allSatisfy(\.isMet)
            if node.state == .waiting {
                #expect(!met, "\(node.name) waits although every requirement is met", sourceLocation: sourceLocation)
            }
            let answer = try? state.answer(for: node.name)
            #expect((answer != nil) == (node.releasedAt != nil && node.state != .killed), sourceLocation: sourceLocation)
            if let answer {
                let spec = document.workspaces.first { $0.name == node.workspace }!
                #expect(answer.data == spec.requires.data, "data goes only where it is required", sourceLocation: sourceLocation)
                for role in answer.roles {
                    let expected = registered.filter { provider in
                        state.workspaceSpecs.first { $0.name == provider.workspace }!.provides.roles.contains { $0.name == role.role }
                    }
                    #expect(role.providers.map(\.node) == expected.map(\.name), sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test(arguments: 0..<60)
    func `random documents in random orders always end complete and all ok`(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 7919 &+ 13)
        let document = Self.randomDocument(&random)
        var collector = DiagnosticCollector()
        ClusterValidator.validate(document, map: Self.sourceMap(for: document), into: &collector)
        #expect(collector.errorCount == 0, "generator made an invalid document: \(collector.diagnostics(lines: LineTable([])))")
        var driver = try EngineDriver(document)
        var failures = 0
        var added = 0
        var removed = 0
        var steps = 0
        while !driver.state.status.allOk {
            steps += 1
            try #require(steps < 5_000, "no progress: \(driver.state.status)")
            let nodes = try driver.state.nodeNames.map { try driver.node($0) }
            // Every enabled input, then one picked at random.
            var enabled: [EngineCommand] = []
            for node in nodes {
                switch node.state {
                case .pending: enabled.append(.launch(context: driver.context, node: node.name))
                case .launching:
                    enabled.append(.booted(context: driver.context, node: node.name))
                    enabled.append(.checkIn(context: driver.context, node: node.name, identities: try driver.identities(for: node.name)))
                case .booted:
                    enabled.append(.checkIn(context: driver.context, node: node.name, identities: try driver.identities(for: node.name)))
                case .configuring:
                    if failures < 6 && random.next() % 8 == 0 {
                        enabled.append(.report(context: driver.context, node: node.name, result: .error(code: 4, message: "boom")))
                    } else {
                        enabled.append(.report(context: driver.context, node: node.name, result: .ok))
                    }
                case .ok where failures < 6 && random.next() % 30 == 0:
                    enabled.append(.kill(context: driver.context, node: node.name))
                case .failed, .killed, .timedOut: enabled.append(.retry(context: driver.context, node: node.name))
                default: break
                }
            }
            try #require(!enabled.isEmpty, "stuck with nothing to do: \(nodes.map { "\($0.name)=\($0.state)" })")
            let command = enabled[Int(random.next() % UInt64(enabled.count))]
            if case .report(_, _, .error) = command { failures += 1 }
            if case .kill = command { failures += 1 }
            // Now and then, scale a workspace up while the context runs.
            if added < 3 && random.next() % 25 == 0, let workspace = document.workspaces.randomElement(using: &random) {
                added += 1
                try driver.apply(.addNodes(context: driver.context, workspace: workspace.name, count: 1))
            }
            // And now and then, remove a slot with nothing running (what waits on it shrinks).
            if removed < 3 && random.next() % 20 == 0,
                let idle = nodes.filter({ $0.state.isRemovable && $0.name != Self.node(of: command) }).randomElement(using: &random),
                nodes.filter({ $0.workspace == idle.workspace }).count > 1
            {
                removed += 1
                try driver.apply(.removeNodes(context: driver.context, nodes: [idle.name]))
                Self.checkInvariants(driver.state, document: document)
            }
            try driver.apply(command)
            Self.checkInvariants(driver.state, document: document)
        }
        let status = driver.state.status
        #expect(status.complete && status.allOk && !status.errorPresent && status.registered == status.expected)
        #expect(driver.events.map(\.sequence) == Array(1...UInt64(driver.events.count)))
        // Every release happened exactly once per generation of a slot.
        for node in driver.state.nodeNames {
            let releases = driver.released.filter { $0 == node }.count
            #expect(releases == (try driver.node(node).generation) + 1)
        }
    }

    /// The node a generated command is about.
    static func node(of command: EngineCommand) -> String? {
        switch command {
        case .launch(_, let node), .booted(_, let node), .checkIn(_, let node, _), .report(_, let node, _), .kill(_, let node), .retry(_, let node):
            node
        default: nil
        }
    }

    /// A source map with dummy positions (every part at offset 0 of an empty text), for running the validator on
    /// generated documents.
    static func sourceMap(for document: ClusterDocument) -> ClusterSourceMap {
        let here = 0
        var map = ClusterSourceMap(root: here)
        for workspace in document.workspaces {
            map.workspaces.append(
                ClusterSourceMap.Workspace(
                    element: here,
                    name: here,
                    requiredRoles: workspace.requires.roles.map { _ in here },
                    providedRoles: workspace.provides.roles.map { _ in here },
                    data: workspace.requires.data.map { _ in here }
                )
            )
        }
        return map
    }
}
