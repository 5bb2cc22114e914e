import Foundation
import MusterCore
import Testing

@testable import MusterConsole

/// Marks (`Space`, `ctrl-a`) and the actions on the marked set, and `:scale WORKSPACE -N`.
@Suite("Marks and scaling down")
struct MarksTests {
    static let size = ScreenSize(width: 120, height: 40)

    @discardableResult
    static func press(_ session: inout ConsoleSession, _ keys: Key...) -> [ConsoleEffect] {
        var effects: [ConsoleEffect] = []
        for key in keys { effects += session.handle(.key(key), at: Date(timeIntervalSince1970: 0)) }
        return effects
    }

    static func type(_ session: inout ConsoleSession, _ text: String) {
        for character in text { press(&session, .character(character)) }
    }

    /// Selects a tree row by its name (a workspace or a node).
    static func select(_ name: String, in session: inout ConsoleSession) {
        let model = session.model
        let row: TreeRow =
            model.index(ofNode: name).map { .node($0) } ?? .workspace(model.workspaces.firstIndex { $0.name == name }!)
        let target = session.state.tree.index(of: row, model)!
        press(&session, .character("g"))
        for _ in 0..<target { press(&session, .character("j")) }
    }

    static func marked(_ session: ConsoleSession) -> [String] {
        session.state.markedNodes(session.model).map { session.model.nodes[$0].name }
    }

    static func dialog(_ session: ConsoleSession) -> ConfirmDialog? {
        if case .confirm(let dialog) = session.state.overlay { return dialog }
        return nil
    }

    // The progress scene: rabbitmq-head-0 ok, provisioner-0 ok, provisioner-1 launching, provisioner-2 pending,
    // scheduler-0 failed, aggregator-0 configuring.

    @Test func `ctrl-a marks every node the tree shows, and again unmarks them`() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        Self.press(&session, .control("a"))
        #expect(Self.marked(session).count == session.model.nodes.count)
        #expect(session.state.status?.text == "6 nodes marked: r retries them, x kills them, Esc clears")
        Self.press(&session, .control("a"))
        #expect(Self.marked(session).isEmpty)
        #expect(session.state.status?.text == "unmarked 6 nodes")
    }

    @Test func `ctrl-a under a filter marks only the nodes it shows`() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        Self.press(&session, .character("/"))
        Self.type(&session, "ws:provisioner")
        Self.press(&session, .enter, .control("a"))
        #expect(Self.marked(session) == ["provisioner-0", "provisioner-1", "provisioner-2"])
    }

    @Test func `Space on a workspace marks its nodes and moves on; Space on it again unmarks them`() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        Self.select("provisioner", in: &session)
        Self.press(&session, .character(" "))
        #expect(Self.marked(session) == ["provisioner-0", "provisioner-1", "provisioner-2"])
        #expect(session.state.treeSelection == .node(session.model.index(ofNode: "provisioner-0")!), "the selection moved down")
        Self.press(&session, .character(" "))
        #expect(Self.marked(session) == ["provisioner-1", "provisioner-2"], "Space on the marked provisioner-0 unmarks it alone")
        Self.select("provisioner", in: &session)
        Self.press(&session, .character(" "))
        #expect(Self.marked(session) == ["provisioner-0", "provisioner-1", "provisioner-2"], "a partly marked workspace is marked whole")
        Self.select("provisioner", in: &session)
        Self.press(&session, .character(" "))
        #expect(Self.marked(session).isEmpty)
    }

    @Test func `r on marked nodes retries those that can be retried, after one confirmation naming them; the marks then clear`() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        Self.select("provisioner-0", in: &session)
        Self.press(&session, .character(" "))
        Self.select("scheduler-0", in: &session)
        Self.press(&session, .character(" "))
        #expect(Self.press(&session, .character("r")).isEmpty)
        let dialog = try #require(Self.dialog(session))
        #expect(dialog.question == "Retry 1 marked node?")
        #expect(dialog.detail == "Retries scheduler-0. 1 marked node that cannot be retried is left alone.")
        let effects = Self.press(&session, .character("y"))
        #expect(effects == [.retryNodes(["scheduler-0"], what: "1 marked node")])
        #expect(Self.marked(session).isEmpty)
    }

    @Test func `x on marked nodes kills them all after one confirmation; n keeps the marks`() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        Self.select("provisioner", in: &session)
        Self.press(&session, .character(" "), .character("x"))
        #expect(Self.dialog(session)?.question == "Kill 3 marked nodes?")
        #expect(Self.dialog(session)?.detail == "Kills provisioner-0, provisioner-1, provisioner-2.")
        Self.press(&session, .character("n"))
        #expect(Self.marked(session).count == 3, "a cancelled action keeps the marks")
        Self.press(&session, .character("x"))
        #expect(Self.press(&session, .character("y")) == [.killNodes(["provisioner-0", "provisioner-1", "provisioner-2"], what: "3 marked nodes")])
    }

    @Test func `Esc clears the marks`() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        Self.press(&session, .control("a"), .escape)
        #expect(Self.marked(session).isEmpty)
        #expect(session.state.status?.text == "6 marks cleared")
    }

    // MARK: :scale WORKSPACE -N

    @Test func `:scale WORKSPACE -N says that it kills, pending and failed nodes first, and that the slots stay`() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        Self.press(&session, .character(":"))
        Self.type(&session, "scale provisioner -2")
        #expect(Self.press(&session, .enter).isEmpty, "nothing happens before the confirmation")
        let dialog = try #require(Self.dialog(session))
        #expect(dialog.question == "Scale provisioner down: kill 2 nodes?")
        #expect(
            dialog.detail
                == "The broker cannot remove slots: this kills provisioner-2, provisioner-1 and their slots stay, killed. 1 of them is still running."
        )
        #expect(
            Self.press(&session, .character("y")) == [.killNodes(["provisioner-2", "provisioner-1"], what: "2 nodes of provisioner (scaled down)")]
        )
    }

    @Test func `scaling down takes failed nodes before running ones, whatever their slot, and never a killed one`() throws {
        var (session, _) = try FindAndSortTests.twelve()
        // app-2 failed, app-9 killed, the others booted, configuring or ok.
        Self.press(&session, .character(":"))
        Self.type(&session, "scale app -3")
        Self.press(&session, .enter)
        let dialog = try #require(Self.dialog(session))
        #expect(dialog.detail.hasPrefix("The broker cannot remove slots: this kills app-2, app-11, app-10 and"), "\(dialog.detail)")
        #expect(dialog.detail.hasSuffix("2 of them are still running."))
    }

    @Test func `asking to scale down by more than there are nodes kills what there is and says so`() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        Self.press(&session, .character(":"))
        Self.type(&session, "scale scheduler -4")
        Self.press(&session, .enter)
        let dialog = try #require(Self.dialog(session))
        #expect(dialog.question == "Scale scheduler down: kill 1 node?")
        #expect(dialog.detail.hasSuffix("Only 1 of 4 can go."))
    }

    @Test func `a read-only console refuses to scale down`() throws {
        var (session, _) = try Scenes.progress(size: Self.size, options: ConsoleOptions(readOnly: true))
        Self.press(&session, .character(":"))
        Self.type(&session, "scale provisioner -1")
        #expect(Self.press(&session, .enter).isEmpty)
        #expect(session.state.overlay == nil)
        #expect(session.state.status?.text == "read-only console: :scale is disabled (started with --readonly)")
    }
}
