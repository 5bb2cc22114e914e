import Foundation
import MusterCore
import Testing

@testable import MusterConsole

/// Every context at a glance: the contexts view's launcher column, and the tree listing every context.
@Suite("Every context at a glance")
struct ContextsViewTests {
    static func press(_ session: inout ConsoleSession, _ keys: Key...) -> [ConsoleEffect] {
        var effects: [ConsoleEffect] = []
        for key in keys { effects += session.handle(.key(key), at: Date(timeIntervalSince1970: 0)) }
        return effects
    }

    /// The progress scene (context ctx-1) with the broker's three contexts known.
    static func scene(width: Int = 160) throws -> (ConsoleSession, EngineScript) {
        var (session, script) = try Scenes.progress(size: ScreenSize(width: width, height: 40))
        session.apply(.contexts(Scenes.contextSummaries(at: script.now)))
        return (session, script)
    }

    static func screen(_ session: ConsoleSession, at now: Date) -> [String] {
        let grid = ConsoleRenderer.render(session.frame(at: now))
        return (0..<grid.size.height).map { grid.text(ofRow: $0) }
    }

    @Test func `the contexts view has a launcher column once the broker has said who launches, from 110 columns`() throws {
        var (session, script) = try Self.scene()
        _ = Self.press(&session, .character("0"))
        var rows = Self.screen(session, at: Scenes.now(script))
        #expect(!rows.contains { $0.contains("LAUNCHER") }, "the broker has not said")

        session.apply(.launcher(.external))
        rows = Self.screen(session, at: Scenes.now(script))
        let heading = try #require(rows.first { $0.contains("LAUNCHER") })
        #expect(heading.range(of: "LEASE")!.lowerBound < heading.range(of: "LAUNCHER")!.lowerBound)
        #expect(heading.range(of: "LAUNCHER")!.lowerBound < heading.range(of: "NODES")!.lowerBound)
        let list = rows.drop { !$0.contains("LAUNCHER") }.dropFirst()
        for id in ["torque-1a2b", "ctx-1", "failing-9c0d"] {
            #expect(list.first { $0.contains(id) }?.contains("external") == true, "\(id)")
        }

        var (narrow, _) = try Self.scene(width: 100)
        narrow.apply(.launcher(.broker))
        _ = Self.press(&narrow, .character("0"))
        #expect(!Self.screen(narrow, at: Scenes.now(script)).contains { $0.contains("LAUNCHER") }, "no room below 110 columns")
    }

    @Test func `each context says who launches its nodes, when the broker says it per context`() throws {
        var (session, script) = try Self.scene()
        var summaries = Scenes.contextSummaries(at: script.now)
        let launchers = ["ec2 (ext)", "local", "external"]
        for index in summaries.indices { summaries[index].launcher = launchers[index % launchers.count] }
        session.apply(.contexts(summaries))
        _ = Self.press(&session, .character("0"))
        let rows = Self.screen(session, at: Scenes.now(script))
        let list = rows.drop { !$0.contains("LAUNCHER") }.dropFirst()
        for (index, summary) in summaries.enumerated() {
            let row = try #require(list.first { $0.contains(summary.id.rawValue) })
            #expect(row.contains(launchers[index % launchers.count]), "\(row)")
        }
    }

    @Test func `C lists every other context below the shown one's tree; Enter on one shows it`() throws {
        var (session, script) = try Self.scene()
        let rows = session.state.tree.count
        #expect(!session.demand.contexts, "the tree alone does not refresh the contexts")
        _ = Self.press(&session, .character("C"))
        #expect(session.state.tree.otherContexts == ["torque-1a2b", "failing-9c0d"])
        #expect(session.state.tree.count == rows + 2)
        #expect(session.state.status?.text == "the tree lists every context: 2 others below this one; Enter shows one")
        #expect(session.demand.contexts, "while listed, the contexts are refreshed")

        let screen = Self.screen(session, at: Scenes.now(script))
        let torque = try #require(screen.first { $0.contains("torque-1a2b") })
        #expect(torque.contains("▸ torque") && torque.contains("terminated") && torque.contains("9/9 ok"), "\(torque)")
        #expect(screen.contains { $0.contains("failing-9c0d") && $0.contains("complete with errors") })

        _ = Self.press(&session, .character("G"))
        #expect(session.state.treeSelection == .otherContext("failing-9c0d"))
        #expect(Self.press(&session, .character(" ")).isEmpty, "another context's row has no nodes to mark")
        #expect(session.state.marks.isEmpty)
        #expect(Self.press(&session, .enter) == [.switchContext("failing-9c0d")])
    }

    @Test func `the listed contexts follow the broker's list, and C again shows this context only`() throws {
        var (session, script) = try Self.scene()
        _ = Self.press(&session, .character("C"))
        var summaries = Scenes.contextSummaries(at: script.now)
        summaries.removeFirst()
        session.apply(.contexts(summaries))
        #expect(session.state.tree.otherContexts == ["failing-9c0d"])
        _ = Self.press(&session, .character("C"))
        #expect(session.state.tree.otherContexts.isEmpty)
        #expect(!session.state.tree.showsOtherContexts)
        #expect(!Self.screen(session, at: Scenes.now(script)).contains { $0.contains("failing-9c0d") })
        #expect(session.state.status?.text == "the tree shows this context only")
    }

    @Test func `the listing survives a switch of context, and the shown context is never listed twice`() throws {
        var (session, _) = try Self.scene()
        _ = Self.press(&session, .character("C"))
        var other = try EngineScript(document: try EngineScript.cpeDocument(), context: "failing-9c0d", name: "failing")
        session.apply(.snapshot(try other.snapshot()))
        _ = other.takeEvents()
        #expect(session.state.tree.showsOtherContexts)
        #expect(session.state.tree.otherContexts == ["torque-1a2b", "ctx-1"])
    }
}
