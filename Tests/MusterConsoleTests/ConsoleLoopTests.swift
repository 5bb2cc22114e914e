import Foundation
import Logging
import MusterCore
import Testing

@testable import MusterConsole

/// The UI loop with the headless terminal and a hand-moved clock: no thread, no sleep.
@Suite("Console loop")
struct ConsoleLoopTests {
    final class Clock: @unchecked Sendable {
        var now = Date(timeIntervalSince1970: 1_700_000_100)
        func advance(_ seconds: TimeInterval) { now += seconds }
    }

    struct Harness {
        let terminal: HeadlessTerminal
        let inbox: ConsoleInbox
        let loop: ConsoleLoop
        let clock: Clock
        let performed: Performed
    }

    final class Performed: @unchecked Sendable {
        var effects: [ConsoleEffect] = []
    }

    static func harness(size: ScreenSize = ScreenSize(width: 80, height: 24), session: ConsoleSession? = nil) -> Harness {
        let terminal = HeadlessTerminal(size: size)
        let inbox = ConsoleInbox()
        let clock = Clock()
        let performed = Performed()
        let start = session ?? ConsoleSession(broker: Scenes.broker, options: ConsoleOptions(themeNames: ["dark", "light"]), screen: size)
        let loop = ConsoleLoop(
            session: start,
            driver: terminal,
            inbox: inbox,
            theme: .builtInDark,
            loadTheme: { name in name == "light" ? ThemeLoadResult(theme: .monochrome, problem: nil) : ThemeCatalog(folders: []).load(name) },
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            now: { clock.now },
            perform: { effect, _ in performed.effects.append(effect) }
        )
        loop.prepare()
        return Harness(terminal: terminal, inbox: inbox, loop: loop, clock: clock, performed: performed)
    }

    @Test("many updates between two frames make one frame")
    func coalescesUpdates() throws {
        var script = try EngineScript(document: try EngineScript.cpeDocument())
        let harness = Self.harness()
        harness.loop.turn()
        #expect(harness.loop.framesDrawn == 1)
        harness.inbox.post(.update(.snapshot(try script.snapshot())))
        _ = script.takeEvents()
        for node in script.nodeNames { try script.start(node) }
        for event in script.takeEvents() { harness.inbox.post(.update(.events([event]))) }
        harness.clock.advance(0.001)
        harness.loop.turn()
        #expect(harness.loop.framesDrawn == 1)
        #expect(harness.terminal.waits.last! != nil && harness.terminal.waits.last!! > 0)
        harness.clock.advance(0.05)
        harness.loop.turn()
        #expect(harness.loop.framesDrawn == 2)
        #expect(harness.terminal.screen.text(ofRow: 1).contains("○ 4 booted"))
    }

    @Test("nothing changed, nothing drawn: an idle turn waits for the tick and writes no cell")
    func idleDrawsNothing() {
        let harness = Self.harness()
        harness.loop.turn()
        let cells = harness.terminal.cellsWritten
        let draws = harness.terminal.draws
        harness.loop.turn()
        #expect(harness.terminal.waits.last == 1)
        harness.clock.advance(1)
        harness.loop.turn()
        #expect(harness.loop.framesRendered == 2)
        #expect(harness.terminal.draws == draws)
        #expect(harness.terminal.cellsWritten == cells)
    }

    @Test("moving the selection writes only the rows that changed")
    func diffWritesChangedCellsOnly() throws {
        let (session, script) = try Scenes.progress(size: ScreenSize(width: 80, height: 24))
        let harness = Self.harness(session: session)
        harness.clock.now = Scenes.now(script)
        harness.loop.turn()
        let full = harness.terminal.cellsWritten
        harness.terminal.type(.key(.character("j")))
        harness.clock.advance(0.1)
        harness.loop.turn()
        let written = harness.terminal.cellsWritten - full
        #expect(written > 0 && written <= 2 * 80)
    }

    @Test("a burst of resizes is drawn once, at the last size, as a full repaint")
    func resizeIsDebounced() {
        let harness = Self.harness(size: ScreenSize(width: 120, height: 40))
        harness.loop.turn()
        harness.terminal.resize(to: ScreenSize(width: 100, height: 30))
        harness.clock.advance(0.01)
        harness.loop.turn()
        harness.terminal.resize(to: ScreenSize(width: 80, height: 24))
        harness.clock.advance(0.01)
        harness.loop.turn()
        #expect(harness.loop.framesDrawn == 1)
        harness.clock.advance(0.06)
        harness.loop.turn()
        #expect(harness.loop.framesDrawn == 2)
        #expect(harness.terminal.screen.size == ScreenSize(width: 80, height: 24))
        #expect(harness.terminal.fullRepaints == 2)
    }

    @Test("effects go to the performer, results come back to the status line, q ends the loop")
    func effectsAndQuit() throws {
        let options = ConsoleOptions(themeNames: ["dark", "light"])
        let (session, script) = try Scenes.progress(size: ScreenSize(width: 80, height: 24), options: options)
        let harness = Self.harness(session: session)
        harness.clock.now = Scenes.now(script)
        harness.terminal.type(.key(.character(":")))
        // `co` + Tab completes `context` (and lists `context`, `contexts`); then ` x`.
        harness.terminal.type(.key(.character("c")), .key(.character("o")), .key(.tab), .key(.character(" ")), .key(.character("x")), .key(.enter))
        harness.loop.turn()
        harness.loop.turn()
        #expect(harness.performed.effects == [.switchContext("x")])
        harness.inbox.post(.input(.actionFailed("no context 'x'")))
        harness.clock.advance(0.1)
        harness.loop.turn()
        #expect(harness.terminal.screen.text(ofRow: 23).contains("no context 'x'"))
        harness.terminal.type(.key(.character("t")))
        harness.loop.turn()
        #expect(harness.loop.theme == .monochrome)
        harness.terminal.type(.key(.character("q")))
        #expect(harness.loop.turn() == false)
        #expect(harness.loop.isFinished)
    }

    @Test("a stop message ends the loop (SIGTERM and friends)")
    func stopMessage() {
        let harness = Self.harness()
        harness.inbox.post(.stop)
        #expect(harness.loop.turn() == false)
    }

    @Test("a terminal that hung up ends the loop (no SIGHUP reaches a console that lent its terminal to a shell)")
    func hangUp() {
        let harness = Self.harness()
        #expect(harness.loop.turn())
        harness.terminal.hangUp()
        #expect(harness.loop.turn() == false)
        #expect(harness.loop.isFinished)
    }

    @Test("NO_COLOR and colourless terminals get the monochrome theme")
    func monochromeWithoutColours() {
        let terminal = HeadlessTerminal(size: ScreenSize(width: 80, height: 24))
        terminal.supportsColor = false
        terminal.supportsUnicode = false
        let loop = ConsoleLoop(
            session: ConsoleSession(broker: "b", options: ConsoleOptions(), screen: terminal.size),
            driver: terminal,
            inbox: ConsoleInbox(),
            theme: .builtInDark,
            loadTheme: { _ in ThemeLoadResult(theme: .builtInDark, problem: nil) },
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            perform: { _, _ in }
        )
        loop.prepare()
        #expect(terminal.themes.last == .monochrome)
        #expect(loop.session.state.options.glyphs == .ascii)
    }
}

@Suite("Saving a node's output")
struct SaveOutputTests {
    @Test("saving into a folder that does not exist says so in one line naming the folder")
    func missingFolder() {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-missing-\(UUID().uuidString)").path
        let result = ConsoleRunner.save("a\nb\n", to: folder + "/out.log", lines: 2, node: "app-0")
        #expect(result == .actionFailed("cannot save app-0's output to \(folder)/out.log: there is no folder \(folder)"))
    }

    @Test("a saved file holds the output, and the status line counts its lines")
    func saved() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("muster-save-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(ConsoleRunner.save("one\n", to: path, lines: 1, node: "app-0") == .actionSucceeded("saved 1 line of app-0 to \(path)"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one\n")
    }
}
