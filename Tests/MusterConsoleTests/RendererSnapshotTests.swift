import Foundation
import MusterCore
import Testing

@testable import MusterConsole

/// Every view rendered at 80×24 and 160×50 and compared with the text (and style map) committed under
/// `Snapshots/`. Record with `MUSTER_RECORD_SNAPSHOTS=1 swift test --filter RendererSnapshotTests`.
@Suite("Renderer snapshots")
struct RendererSnapshotTests {
    enum Scene: String, CaseIterable, Sendable {
        case tree, detail, waits, events, help, command, confirm, banner, contexts, timeline, marked, message
    }

    static let sizes = [ScreenSize(width: 80, height: 24), ScreenSize(width: 160, height: 50)]

    /// Builds the session for a scene by driving keys, the way an operator gets there.
    static func session(_ scene: Scene, size: ScreenSize) throws -> (ConsoleSession, Date) {
        func key(_ session: inout ConsoleSession, _ keys: Key...) {
            for key in keys { _ = session.handle(.key(key), at: Date(timeIntervalSince1970: 0)) }
        }
        switch scene {
        case .tree:
            var (session, script) = try Scenes.progress(size: size)
            key(&session, .down, .down, .down, .down)
            return (session, Scenes.now(script))
        case .detail:
            var (session, script) = try Scenes.progress(size: size)
            key(&session, .character("3"), .character("1"))
            let row = session.state.tree.index(of: .node(session.model.index(ofNode: "scheduler-0")!), session.model)!
            key(&session, .character("g"))
            for _ in 0..<row { key(&session, .down) }
            key(&session, .enter, .character("/"))
            for character in "rabbitmq" { key(&session, .character(character)) }
            key(&session, .enter)
            return (session, Scenes.now(script))
        case .waits:
            var (session, script) = try Scenes.stuck(size: size)
            key(&session, .character("2"), .down)
            return (session, Scenes.now(script))
        case .events:
            var (session, script) = try Scenes.progress(size: size)
            key(&session, .character("3"))
            return (session, Scenes.now(script))
        case .help:
            var (session, script) = try Scenes.progress(size: size)
            key(&session, .character("?"))
            return (session, Scenes.now(script))
        case .command:
            var (session, script) = try Scenes.progress(size: size)
            key(&session, .character(":"), .character("s"), .character("c"), .tab, .tab)
            return (session, Scenes.now(script))
        case .confirm:
            var (session, script) = try Scenes.progress(size: size)
            let row = session.state.tree.index(of: .node(session.model.index(ofNode: "scheduler-0")!), session.model)!
            for _ in 0..<row { key(&session, .down) }
            key(&session, .character("x"))
            return (session, Scenes.now(script))
        case .banner:
            var (session, script) = try Scenes.stuck(size: size)
            session.apply(.connection(.reconnecting(attempt: 3, since: script.now - 12, reason: "connection refused")))
            return (session, Scenes.now(script))
        case .contexts:
            var (session, script) = try Scenes.progress(size: size)
            session.apply(.contexts(Scenes.contextSummaries(at: script.now)))
            session.apply(.launcher(.broker))
            key(&session, .character("0"), .down)
            return (session, Scenes.now(script))
        case .timeline:
            var (session, script) = try Scenes.progress(size: size)
            key(&session, .character("4"), .down, .down)
            return (session, Scenes.now(script))
        case .marked:
            var (session, script) = try Scenes.progress(size: size)
            let provisioner = session.state.tree.index(of: .workspace(session.model.index(ofWorkspace: "provisioner")!), session.model)!
            for _ in 0..<provisioner { key(&session, .down) }
            key(&session, .character(" "), .down, .down, .down, .character(" "), .character("r"))
            return (session, Scenes.now(script))
        case .message:
            var (session, script) = try Scenes.progress(size: size, failureMessage: Scenes.longFailure)
            let row = session.state.tree.index(of: .node(session.model.index(ofNode: "scheduler-0")!), session.model)!
            for _ in 0..<row { key(&session, .down) }
            key(&session, .enter, .character("m"))
            return (session, Scenes.now(script))
        }
    }

    @Test("each view renders as recorded", arguments: Scene.allCases, sizes)
    func viewMatchesSnapshot(scene: Scene, size: ScreenSize) throws {
        let (session, now) = try Self.session(scene, size: size)
        let grid = ConsoleRenderer.render(session.frame(at: now))
        let name = "\(scene.rawValue)-\(size.width)x\(size.height)"
        try SnapshotAssertion.assert(TextSnapshot.textWithStyles(grid), named: name + ".txt")
        if size.width == 160 {
            try SnapshotAssertion.assert(SVGSnapshot.svg(grid, theme: .builtInDark), named: name + ".svg")
        }
    }

    @Test("the light theme renders the tree as recorded (SVG)")
    func lightThemeMatchesSnapshot() throws {
        let (session, now) = try Self.session(.tree, size: ScreenSize(width: 160, height: 50))
        let grid = ConsoleRenderer.render(session.frame(at: now))
        let themes = ThemeCatalog(folders: [ThemeTests.repositoryThemes])
        let light = themes.load("light")
        #expect(light.problem == nil)
        try SnapshotAssertion.assert(SVGSnapshot.svg(grid, theme: light.theme), named: "tree-light-160x50.svg")
    }

    @Test("every row fits the screen width and no cell is left half of a wide character")
    func framesAreWellFormed() throws {
        for scene in Scene.allCases {
            for size in Self.sizes {
                let (session, now) = try Self.session(scene, size: size)
                let grid = ConsoleRenderer.render(session.frame(at: now))
                for y in 0..<size.height {
                    #expect(TextWidth.of(grid.text(ofRow: y)) <= size.width)
                    for x in 0..<size.width where grid[x, y].width == 0 {
                        #expect(x > 0 && grid[x - 1, y].width == 2)
                    }
                }
            }
        }
    }
}

@Suite("Timeline view")
struct TimelineRendererTests {
    @Test("every finished node's bar ends with its state, the node that finished last included")
    func lastFinisherEndsOK() throws {
        var script = try EngineScript(document: try EngineScript.cpeDocument())
        let initial = try script.snapshot()
        _ = script.takeEvents()
        for node in script.nodeNames { try script.start(node) }
        for node in script.nodeNames { try script.checkIn(node) }
        for node in script.nodeNames {
            try script.run(node, phase: 2, script: "2-thishost/publicnic")
            try script.reportOK(node)
        }
        var session = Scenes.session(&script, initial: initial, size: ScreenSize(width: 120, height: 30))
        _ = session.handle(.key(.character("4")), at: script.now)
        let grid = ConsoleRenderer.render(session.frame(at: script.now + 60))
        let rows = (0..<grid.size.height).map { grid.text(ofRow: $0) }
        for node in script.nodeNames {
            let row = try #require(rows.first { $0.contains("✓ \(node) ") }, "no row for \(node)")
            let bar = row[row.range(of: node)!.upperBound...].trimmingCharacters(in: .whitespaces)
            #expect(bar.last == "✓", "\(node): \(row)")
        }
    }
}
