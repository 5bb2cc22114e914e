import Foundation
import MusterCore
import Testing

@testable import MusterConsole

/// Ten thousand nodes: one head and three workspaces of 3,333 that all require it. Work per frame must depend
/// on the screen, and work per event on the event, never on the number of nodes.
@Suite("Scale: 10,000 nodes")
struct ScaleTests {
    static func document() -> ClusterDocument {
        let nic = [NICSpec(network: "public")]
        var workspaces = [
            WorkspaceSpec(
                name: "head",
                image: "head.img",
                quantity: 1,
                nics: nic,
                provides: ProvidesSpec(identities: [ProvidedIdentity()], roles: [ProvidedRole(name: "head")])
            )
        ]
        for name in ["workers-a", "workers-b", "workers-c"] {
            workspaces.append(
                WorkspaceSpec(
                    name: name,
                    image: "worker.img",
                    quantity: 3_333,
                    nics: nic,
                    provides: ProvidesSpec(identities: [ProvidedIdentity()]),
                    requires: RequiresSpec(roles: [RequiredRole(name: "head")])
                )
            )
        }
        return ClusterDocument(workspaces: workspaces)
    }

    /// Every worker launched, booted and checked in (so waiting on the head); the head only booted.
    static func waitingOnHead(size: ScreenSize) throws -> (ConsoleSession, EngineScript) {
        var script = try EngineScript(document: document(), name: "big")
        for node in script.nodeNames { try script.start(node) }
        for node in script.nodeNames.dropFirst() { try script.checkIn(node) }
        var session = ConsoleSession(broker: Scenes.broker, options: ConsoleOptions(), screen: size)
        session.apply(.snapshot(try script.snapshot()))
        _ = script.takeEvents()
        return (session, script)
    }

    @Test("a frame draws each cell about once, however many nodes there are")
    func frameWorkIsBoundedByTheScreen() throws {
        let size = ScreenSize(width: 80, height: 24)
        var (session, script) = try Self.waitingOnHead(size: size)
        #expect(session.model.nodes.count == 10_000)
        for _ in 0..<5_000 { _ = session.handle(.key(.character("j")), at: script.now) }
        for view in ["1", "2", "3"] {
            _ = session.handle(.key(.character(Character(view))), at: script.now)
            let grid = ConsoleRenderer.render(session.frame(at: script.now))
            #expect(grid.writes <= 2 * size.width * size.height, "view \(view): \(grid.writes) cells drawn")
        }
        _ = session.handle(.key(.character("1")), at: script.now)
        _ = session.handle(.key(.enter), at: script.now)
        #expect(session.state.view == .detail)
        let detail = ConsoleRenderer.render(session.frame(at: script.now))
        #expect(detail.writes <= 2 * size.width * size.height)
        try script.checkIn("head-0")
        _ = session.apply(.events(script.takeEvents()))
        let afterRelease = ConsoleRenderer.render(session.frame(at: script.now))
        #expect(afterRelease.writes <= 2 * size.width * size.height)
    }

    @Test("the selected row deep in the tree is found through the index")
    func deepSelection() throws {
        var (session, script) = try Self.waitingOnHead(size: ScreenSize(width: 120, height: 40))
        _ = session.handle(.key(.character("G")), at: script.now)
        #expect(session.state.treeSelection == .node(9_999))
        // The body's first row holds the column headings.
        #expect(session.state.treeTop == session.state.tree.count - (session.state.layout(session.model).body.count - 1))
        let grid = ConsoleRenderer.render(session.frame(at: script.now))
        let last = grid.text(ofRow: session.state.layout(session.model).body.upperBound - 1)
        #expect(last.contains("workers-c-3332"))
        #expect(last.contains("waits: head 0/1"))
    }

    @Test("applying one event touches only the nodes it names, without rebuilding indices")
    func eventWorkIsBoundedByTheEvent() throws {
        var (session, script) = try Self.waitingOnHead(size: ScreenSize(width: 80, height: 24))
        let treeBefore = session.state.tree
        try script.kill("workers-b-17")
        let events = script.takeEvents()
        let delta = session.apply(.events(events))
        #expect(delta.touchedNodes == [session.model.index(ofNode: "workers-b-17")!])
        #expect(!delta.structureChanged)
        #expect(session.state.tree == treeBefore)
        #expect(session.model.nodes[session.model.index(ofNode: "workers-b-17")!].state == .killed)
        #expect(session.model.waits.count(of: "head") == 9_998)
    }

    @Test("the head checking in releases every waiter, and the waits view empties")
    func releaseEmptiesWaits() throws {
        var (session, script) = try Self.waitingOnHead(size: ScreenSize(width: 80, height: 24))
        #expect(WaitsRows(session.model).count == 1 + 9_999)
        try script.checkIn("head-0")
        session.apply(.events(script.takeEvents()))
        #expect(session.model.counts[.configuring] == 10_000)
        #expect(session.model.waits.count(of: "head") == 0)
        #expect(WaitsRows(session.model).count == 0)
    }

    @Test("events applied one by one give the same picture as a fresh snapshot")
    func eventsMatchSnapshot() throws {
        var (session, script) = try Self.waitingOnHead(size: ScreenSize(width: 80, height: 24))
        try script.checkIn("head-0")
        try script.run("workers-a-5", phase: 1, script: "1-ipandhost/head")
        try script.reportOK("workers-a-5")
        try script.addNodes("workers-c", 2)
        for event in script.takeEvents() { session.apply(.events([event])) }
        var fresh = ConsoleSession(broker: Scenes.broker, options: ConsoleOptions(), screen: session.state.screen)
        fresh.apply(.snapshot(try script.snapshot()))
        // A snapshot does not carry when each node was launched and checked in (events do): compare the rest.
        func withoutTimes(_ nodes: [ConsoleNode]) -> [ConsoleNode] {
            nodes.map { node in
                var node = node
                node.launchedAt = nil
                node.registeredAt = nil
                return node
            }
        }
        #expect(withoutTimes(session.model.nodes) == withoutTimes(fresh.model.nodes))
        #expect(session.model.counts == fresh.model.counts)
        #expect(session.model.workspaces == fresh.model.workspaces)
        #expect(session.model.registration.registered == fresh.model.registration.registered)
        #expect(session.model.roles["head"]?.status == fresh.model.roles["head"]?.status)
    }
}
