import Foundation
import MusterCore
import Testing

@testable import MusterConsole

@Suite("Model")
struct ModelTests {
    @Test("a waiting node says what it waits on, with live counts")
    func waitText() throws {
        let (session, _) = try Scenes.stuck(size: ScreenSize(width: 80, height: 24))
        let node = try #require(session.model.index(ofNode: "scheduler-0"))
        #expect(session.model.waitText(of: node) == "waits: identities 3/4, rabbitmq-head 0/1")
        #expect(session.model.workspaces[0].counts.summary == "0/1 ok, 1 booted")
        #expect(session.model.missingProviders(of: "rabbitmq-head", limit: 3) == ["rabbitmq-head-0"])
    }

    @Test("output lines are kept once, in a bounded ring; a retry's new attempt replaces the old attempt's lines")
    func outputRing() throws {
        var (session, script) = try Scenes.progress(size: ScreenSize(width: 80, height: 24))
        let node = try #require(session.model.index(ofNode: "scheduler-0"))
        let lines = Scenes.schedulerOutput(at: script.now, headIP: "10.0.0.1")
        #expect(session.apply(.output(node: "scheduler-0", attempt: 0, lines: lines)).outputNodes.isEmpty)
        #expect(session.model.output(of: node).count == lines.count)
        let many = (lines.count..<(lines.count + ConsoleModel.outputLineLimit)).map {
            OutputLine(index: $0, time: script.now, phase: 1, script: "x", stream: .stdout, text: "line \($0)")
        }
        session.apply(.output(node: "scheduler-0", attempt: 0, lines: many))
        #expect(session.model.output(of: node).count == ConsoleModel.outputLineLimit)
        #expect(session.model.output(of: node).droppedCount == lines.count)
        try script.retry("scheduler-0")
        session.apply(.events(script.takeEvents()))
        #expect(session.model.nodes[node].generation == 1)
        #expect(session.model.nodes[node].identities.isEmpty)
        // The first attempt's lines stay until the second attempt's arrive.
        #expect(session.model.outputAttempt(of: node) == 0)
        let second = [OutputLine(index: 0, time: script.now, phase: 0, script: "0-etchosts.sh", stream: .stdout, text: "again")]
        session.apply(.output(node: "scheduler-0", attempt: 1, lines: second))
        #expect(session.model.outputAttempt(of: node) == 1)
        #expect(session.model.output(of: node).map(\.text) == ["again"])
        // Late lines of the first attempt no longer mix in.
        #expect(!session.apply(.output(node: "scheduler-0", attempt: 1, lines: second)).changed)
    }

    @Test("events the snapshot already holds only add history (launch times, the log); other contexts' are ignored")
    func staleEventsIgnored() throws {
        var script = try EngineScript(document: try EngineScript.cpeDocument())
        try script.start("rabbitmq-head-0")
        try script.checkIn("rabbitmq-head-0")
        let events = script.takeEvents()
        var session = ConsoleSession(broker: Scenes.broker, options: ConsoleOptions(), screen: ScreenSize(width: 80, height: 24))
        session.apply(.snapshot(try script.snapshot()))
        let head = try #require(session.model.index(ofNode: "rabbitmq-head-0"))
        let before = session.model.nodes[head]
        #expect(before.registeredAt == nil)
        session.apply(.events(events))
        let after = session.model.nodes[head]
        #expect(after.state == before.state && after.since == before.since && after.identities == before.identities)
        #expect(after.registeredAt != nil)
        #expect(session.model.counts == StateCounts(try script.snapshot().status.counts))
        #expect(session.model.eventLog.count == events.count)
        var other = events[0]
        other.context = "elsewhere"
        other.sequence = 1_000
        #expect(!session.apply(.events([other])).changed)
    }

    @Test("the connection state shows a banner while lost or reconnecting")
    func connectionBanner() throws {
        var (session, script) = try Scenes.stuck(size: ScreenSize(width: 80, height: 24))
        session.apply(.connection(.lost(since: script.now, reason: "EOF")))
        let grid = ConsoleRenderer.render(session.frame(at: script.now + 3))
        let row = try #require(session.state.layout(session.model).banner)
        #expect(grid.text(ofRow: row).contains("broker connection lost 3s ago (EOF)"))
        #expect(grid[1, row].style == .banner)
        session.apply(.connection(.connected))
        #expect(!ConsoleRenderer.render(session.frame(at: script.now)).text(ofRow: row).contains("lost"))
        _ = script
    }

    @Test("wide characters take two cells and are cut cleanly at the edge")
    func wideCharacters() {
        var grid = CellGrid(size: ScreenSize(width: 6, height: 1))
        grid.draw("a日本語", x: 0, y: 0, style: .text)
        #expect(grid.text(ofRow: 0) == "a日本")
        #expect(grid[1, 0].width == 2 && grid[2, 0].width == 0)
        #expect(grid[5, 0].character == " ")
        #expect(TextWidth.of("日本語") == 6)
        #expect(TextWidth.of("e\u{301}") == 1)
        #expect("scheduler-0 waits".truncated(toWidth: 10) == "scheduler…")
        #expect("日本語".truncated(toWidth: 4) == "日…")
    }

    @Test("ordered members keep insertion order through removals and compaction")
    func orderedMembers() {
        var members = OrderedMembers()
        for value in 0..<100 { members.append(value) }
        for value in stride(from: 0, to: 100, by: 3) { members.remove(value) }
        let expected = (0..<100).filter { $0 % 3 != 0 }
        #expect(members.all == expected)
        #expect(members.member(at: 10) == expected[10])
        for value in expected.prefix(50) { members.remove(value) }
        members.append(0)
        #expect(members.all == Array(expected.dropFirst(50)) + [0])
    }

    @Test("durations get coarser as they grow")
    func durations() {
        #expect(DurationText.format(42) == "42s")
        #expect(DurationText.format(184) == "3m04s")
        #expect(DurationText.format(2_520) == "42m")
        #expect(DurationText.format(11_520) == "3h12m")
        #expect(DurationText.format(183_600) == "2d03h")
        #expect(DurationText.precise(0.24) == "0.2s")
    }
}
