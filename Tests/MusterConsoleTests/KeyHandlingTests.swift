import Foundation
import MusterCore
import Testing

@testable import MusterConsole

/// Key handling on the pure view state: every test drives keys and looks at the state and the effects.
@Suite("Key handling")
struct KeyHandlingTests {
    static let size = ScreenSize(width: 100, height: 30)

    @discardableResult
    func press(_ session: inout ConsoleSession, _ keys: Key...) -> [ConsoleEffect] {
        var effects: [ConsoleEffect] = []
        for key in keys { effects += session.handle(.key(key), at: Date(timeIntervalSince1970: 0)) }
        return effects
    }

    func type(_ session: inout ConsoleSession, _ text: String) {
        for character in text { press(&session, .character(character)) }
    }

    func select(_ node: String, in session: inout ConsoleSession) {
        let target = session.state.tree.index(of: .node(session.model.index(ofNode: node)!), session.model)!
        press(&session, .character("g"))
        for _ in 0..<target { press(&session, .character("j")) }
    }

    func selectedName(_ session: ConsoleSession) -> String? {
        switch session.state.treeSelection {
        case .context: "context"
        case .workspace(let index): session.model.workspaces[index].name
        case .node(let index): session.model.nodes[index].name
        case .otherContext(let id): id.rawValue
        }
    }

    @Test("j/k, arrows, g/G and paging move the selection through the tree")
    func navigation() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        #expect(selectedName(session) == "context")
        press(&session, .character("j"), .down)
        #expect(selectedName(session) == "rabbitmq-head-0")
        press(&session, .character("k"))
        #expect(selectedName(session) == "rabbitmq-head")
        press(&session, .character("G"))
        #expect(selectedName(session) == "aggregator-0")
        press(&session, .home)
        #expect(selectedName(session) == "context")
        press(&session, .pageDown)
        #expect(selectedName(session) == "aggregator-0")
        press(&session, .up)
        #expect(selectedName(session) == "aggregator")
    }

    @Test("← folds a workspace, Enter on the context folds all, Enter on a node opens its detail, Esc returns")
    func expandCollapseAndOpen() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        let rows = session.state.tree.count
        select("provisioner-1", in: &session)
        press(&session, .left)
        #expect(selectedName(session) == "provisioner")
        #expect(session.state.tree.count == rows - 3)
        press(&session, .right)
        #expect(session.state.tree.count == rows)
        press(&session, .character("g"), .enter)
        #expect(session.state.tree.count == 1 + session.model.workspaces.count)
        press(&session, .enter)
        #expect(session.state.tree.count == rows)
        select("scheduler-0", in: &session)
        press(&session, .enter)
        #expect(session.state.view == .detail)
        #expect(session.state.detail?.node == session.model.index(ofNode: "scheduler-0"))
        press(&session, .escape)
        #expect(session.state.view == .tree)
        #expect(selectedName(session) == "scheduler-0")
    }

    @Test("the filter narrows the tree as it is typed, Enter keeps it and Esc clears it")
    func filter() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        let rows = session.state.tree.count
        press(&session, .character("/"))
        type(&session, "sched")
        #expect(session.state.tree.count == 3)
        #expect(session.state.tree.row(at: 2, session.model) == .node(session.model.index(ofNode: "scheduler-0")!))
        press(&session, .enter)
        #expect(session.state.prompt == nil)
        #expect(session.state.tree.filter == "sched")
        press(&session, .escape)
        #expect(session.state.tree.filter.isEmpty)
        #expect(session.state.tree.count == rows)
    }

    @Test("the filter matches states and follows nodes that change")
    func filterFollowsEvents() throws {
        var (session, script) = try Scenes.progress(size: Self.size)
        press(&session, .character("/"))
        type(&session, "failed")
        press(&session, .enter)
        #expect(session.state.tree.count == 3)
        try script.retry("scheduler-0")
        session.apply(.events(script.takeEvents()))
        #expect(session.state.tree.count == 1)
    }

    @Test("x asks to kill the selected node by name; y confirms with an effect naming it")
    func killConfirmed() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        select("aggregator-0", in: &session)
        #expect(press(&session, .character("x")).isEmpty)
        guard case .confirm(let dialog) = session.state.overlay else {
            Issue.record("no confirmation")
            return
        }
        #expect(dialog.question == "Kill node aggregator-0?")
        #expect(press(&session, .character("y")) == [.kill(node: "aggregator-0")])
        #expect(session.state.overlay == nil)
    }

    @Test("any key but y cancels a confirmation", arguments: [Key.character("n"), .character("N"), .escape, .enter, .character("x")])
    func confirmationCancelled(key: Key) throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        select("aggregator-0", in: &session)
        press(&session, .character("x"))
        #expect(press(&session, key).isEmpty)
        #expect(session.state.overlay == nil)
        #expect(session.state.status?.text == "cancelled")
    }

    @Test("r on a failed node asks to retry it; on a node that is not failed it explains why not")
    func retryNode() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        select("scheduler-0", in: &session)
        press(&session, .character("r"))
        guard case .confirm(let dialog) = session.state.overlay else {
            Issue.record("no confirmation")
            return
        }
        #expect(dialog.question == "Retry node scheduler-0?")
        #expect(dialog.detail.contains("exit 4"))
        #expect(press(&session, .character("Y")) == [.retry(node: "scheduler-0")])

        select("provisioner-0", in: &session)
        #expect(press(&session, .character("r")).isEmpty)
        #expect(session.state.overlay == nil)
        #expect(session.state.status?.kind == .error)
        #expect(session.state.status?.text.contains("provisioner-0 is ok") == true)
    }

    @Test("r on a workspace row offers to retry all its failed nodes")
    func retryWorkspace() throws {
        var (session, script) = try Scenes.progress(size: Self.size)
        try script.kill("provisioner-0")
        session.apply(.events(script.takeEvents()))
        select("provisioner-0", in: &session)
        press(&session, .character("k"), .character("r"))
        guard case .confirm(let dialog) = session.state.overlay else {
            Issue.record("no confirmation")
            return
        }
        #expect(dialog.question == "Retry the failed node of provisioner?")
        #expect(press(&session, .character("y")) == [.retryNodes(["provisioner-0"], what: "1 node of provisioner")])
    }

    @Test("read-only consoles refuse actions with a message and no effect")
    func readOnly() throws {
        var (session, _) = try Scenes.progress(size: Self.size, options: ConsoleOptions(readOnly: true))
        select("scheduler-0", in: &session)
        for key in [Key.character("r"), .character("x"), .character("l"), .character("a")] {
            #expect(press(&session, key).isEmpty)
            #expect(session.state.overlay == nil && session.state.prompt == nil)
            #expect(session.state.status?.text.contains("read-only") == true)
        }
        press(&session, .character(":"))
        type(&session, "scale provisioner +2")
        #expect(press(&session, .enter).isEmpty)
        #expect(session.state.status?.text.contains("read-only") == true)
    }

    @Test("the command line parses launch, scale, theme and context")
    func commands() throws {
        var (session, _) = try Scenes.progress(size: Self.size, options: ConsoleOptions(themeNames: ["dark", "light"]))
        func run(_ line: String) -> [ConsoleEffect] {
            press(&session, .character(":"))
            type(&session, line)
            return press(&session, .enter)
        }
        #expect(run("launch Examples/cpe/cluster.xml") == [.launch(path: "Examples/cpe/cluster.xml")])
        #expect(run("scale provisioner +3") == [.addNodes(workspace: "provisioner", count: 3)])
        #expect(run("scale provisioner 2") == [.addNodes(workspace: "provisioner", count: 2)])
        #expect(run("theme light") == [.setTheme("light")])
        #expect(run("context ctx-9") == [.switchContext("ctx-9")])
        #expect(run("scale nowhere +1").isEmpty)
        #expect(session.state.status?.text.hasPrefix("no workspace 'nowhere'") == true)
        #expect(run("scale provisioner many").isEmpty)
        #expect(session.state.status?.text.contains("usage: :scale WORKSPACE +N") == true)
        #expect(run("frobnicate").isEmpty)
        #expect(session.state.status?.text.hasPrefix("unknown command ':frobnicate'") == true)
        #expect(run("theme neon").isEmpty)
        #expect(run("waits").isEmpty)
        #expect(session.state.view == .waits)
    }

    @Test("Tab completes commands, then workspace, theme and context names")
    func completion() {
        let names = CommandCompletion.Names(
            workspaces: ["provisioner", "proxy", "scheduler"],
            themes: ["dark", "light"],
            contexts: ["ctx-1", "ctx-2"]
        )
        #expect(CommandCompletion.complete("sc", names: names) == ("scale ", []))
        #expect(CommandCompletion.complete("scale pro", names: names) == ("scale pro", ["provisioner", "proxy"]))
        #expect(CommandCompletion.complete("scale prov", names: names) == ("scale provisioner ", []))
        #expect(CommandCompletion.complete("theme l", names: names) == ("theme light ", []))
        #expect(CommandCompletion.complete("context ", names: names) == ("context ctx-", ["ctx-1", "ctx-2"]))
        #expect(CommandCompletion.complete("launch x", names: names) == ("launch x", []))
    }

    @Test("Tab completes file paths: folders and .xml files for :launch, any file for :save")
    func pathCompletion() {
        let paths = PathCompleter { folder in
            switch folder {
            case ".": [("Examples", true), ("README.md", false), ("cluster.xml", false)]
            case "Examples/": [("cpe", true), ("torque", true)]
            default: []
            }
        }
        let names = CommandCompletion.Names(workspaces: [], themes: [], contexts: [])
        #expect(CommandCompletion.complete("launch Ex", names: names, paths: paths) == ("launch Examples/", []))
        #expect(CommandCompletion.complete("launch Examples/c", names: names, paths: paths) == ("launch Examples/cpe/", []))
        #expect(CommandCompletion.complete("launch ", names: names, paths: paths) == ("launch ", ["Examples/", "cluster.xml"]))
        #expect(CommandCompletion.complete("save R", names: names, paths: paths) == ("save README.md ", []))
    }

    @Test("/ then n and N step through matches in the output, wrapping around")
    func searchInOutput() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        select("scheduler-0", in: &session)
        press(&session, .enter, .character("/"))
        type(&session, "connection refused")
        press(&session, .enter)
        #expect(session.state.detail?.match == 5)
        #expect(session.state.detail?.follow == false)
        press(&session, .character("n"))
        #expect(session.state.detail?.match == 7)
        press(&session, .character("n"))
        #expect(session.state.detail?.match == 5)
        press(&session, .character("N"))
        #expect(session.state.detail?.match == 7)
        press(&session, .character("/"))
        press(&session, .control("u"))
        type(&session, "no such text")
        press(&session, .enter)
        #expect(session.state.status?.text == "no match for 'no such text'")
    }

    @Test("f toggles follow, w toggles wrap, S saves the output to NODE.log")
    func outputPaneKeys() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        select("scheduler-0", in: &session)
        press(&session, .enter)
        #expect(session.state.detail?.follow == true)
        press(&session, .character("f"))
        #expect(session.state.detail?.follow == false)
        press(&session, .character("G"))
        #expect(session.state.detail?.follow == true)
        press(&session, .character("w"))
        #expect(session.state.detail?.wrap == true)
        #expect(press(&session, .character("S")) == [.saveOutput(node: "scheduler-0", path: "scheduler-0.log")])
    }

    @Test("q quits at once, unless quitting stops an embedded broker with nodes still running")
    func quit() throws {
        var (plain, _) = try Scenes.progress(size: Self.size)
        #expect(press(&plain, .character("q")) == [.quit])

        var (embedded, _) = try Scenes.progress(size: Self.size, options: ConsoleOptions(quitStopsBroker: true))
        #expect(press(&embedded, .character("q")).isEmpty)
        guard case .confirm(let dialog) = embedded.state.overlay else {
            Issue.record("no confirmation")
            return
        }
        // Launching, configuring and the two ok nodes have live agents; pending and failed ones do not.
        #expect(dialog.detail.hasPrefix("4 nodes are still running"))
        #expect(press(&embedded, .character("n")).isEmpty)
        press(&embedded, .character("q"))
        #expect(press(&embedded, .character("y")) == [.quit])
    }

    @Test("? shows the help overlay built from the key table; any other key closes it")
    func help() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        press(&session, .character("?"))
        #expect(session.state.overlay == .help(scroll: 0))
        let text = OverlayRenderer.helpLines(readOnly: false).map(\.text).joined(separator: "\n")
        for binding in KeyMap.bindings { #expect(text.contains(binding.summary)) }
        press(&session, .character("j"))
        #expect(session.state.overlay == .help(scroll: 1))
        press(&session, .escape)
        #expect(session.state.overlay == nil)
    }

    @Test("a click selects a row, a second click opens it, and the wheel scrolls")
    func mouse() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        let body = session.state.layout(session.model).body
        // The first body row holds the column headings.
        _ = session.handle(.mouse(MouseEvent(.click, x: 10, y: body.lowerBound + 3)), at: Date())
        #expect(selectedName(session) == "rabbitmq-head-0")
        _ = session.handle(.mouse(MouseEvent(.click, x: 10, y: body.lowerBound + 3)), at: Date())
        #expect(session.state.view == .detail)
        press(&session, .escape, .character("g"))
        _ = session.handle(.mouse(MouseEvent(.wheelDown, x: 0, y: body.lowerBound)), at: Date())
        #expect(session.state.tree.index(of: session.state.treeSelection, session.model) == 3)
    }

    @Test("t cycles through the themes")
    func themeCycle() throws {
        var (session, _) = try Scenes.progress(size: Self.size, options: ConsoleOptions(themeNames: ["dark", "light", "solarized"]))
        #expect(press(&session, .character("t")) == [.setTheme("light")])
        #expect(press(&session, .character("t")) == [.setTheme("solarized")])
        #expect(press(&session, .character("t")) == [.setTheme("dark")])
    }

    @Test("action results show in the status line and the event log")
    func actionResults() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        _ = session.handle(.actionFailed("kill of scheduler-0 failed: broker unreachable"), at: Date())
        #expect(session.state.status == StatusMessage("kill of scheduler-0 failed: broker unreachable", .error))
        #expect(session.model.eventLog.last?.kind == "action")
        _ = session.handle(.actionSucceeded("retrying scheduler-0"), at: Date())
        #expect(session.state.status?.kind == .success)
    }
}
