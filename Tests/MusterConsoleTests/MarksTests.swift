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

    @Test func `:scale WORKSPACE -N removes the last slots, idle ones first, killing a running one first, after a confirmation`() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        Self.press(&session, .character(":"))
        Self.type(&session, "scale provisioner -2")
        #expect(Self.press(&session, .enter).isEmpty, "nothing happens before the confirmation")
        let dialog = try #require(Self.dialog(session))
        #expect(dialog.question == "Scale provisioner down: remove 2 nodes?")
        #expect(
            dialog.detail
                == "Removes provisioner-2, provisioner-1: their output goes with them, and what requirers wait for shrinks. 1 of them is still running and is killed first."
        )
        #expect(
            Self.press(&session, .character("y")) == [
                .removeNodes(["provisioner-2", "provisioner-1"], kill: ["provisioner-1"], what: "2 nodes of provisioner")
            ]
        )
    }

    @Test func `scaling down takes failed and killed slots before running ones, whatever their slot`() throws {
        var (session, _) = try FindAndSortTests.twelve()
        // app-2 failed, app-9 killed, the others booted, configuring or ok.
        Self.press(&session, .character(":"))
        Self.type(&session, "scale app -3")
        Self.press(&session, .enter)
        let dialog = try #require(Self.dialog(session))
        #expect(dialog.detail.hasPrefix("Removes app-9, app-2, app-11:"), "\(dialog.detail)")
        #expect(dialog.detail.hasSuffix("1 of them is still running and is killed first."))
        #expect(Self.press(&session, .character("y")) == [.removeNodes(["app-9", "app-2", "app-11"], kill: ["app-11"], what: "3 nodes of app")])
    }

    @Test func `a workspace keeps one node: scaling down by more removes what can go and says so`() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        Self.press(&session, .character(":"))
        Self.type(&session, "scale provisioner -7")
        Self.press(&session, .enter)
        let dialog = try #require(Self.dialog(session))
        #expect(dialog.question == "Scale provisioner down: remove 2 nodes?")
        #expect(dialog.detail.hasSuffix("Only 2 of 7 can go (a workspace keeps one node)."))
        Self.press(&session, .escape)
        Self.press(&session, .character(":"))
        Self.type(&session, "scale scheduler -1")
        Self.press(&session, .enter)
        #expect(Self.dialog(session) == nil)
        #expect(session.state.status?.text == "scheduler has one node left; a workspace keeps at least one (x kills it)")
    }

    @Test func `when a slot is removed, marks, the selection and the open detail follow their nodes`() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        Self.select("provisioner-2", in: &session)
        Self.press(&session, .character(" "))
        Self.select("aggregator-0", in: &session)
        Self.press(&session, .character(" "))
        Self.select("scheduler-0", in: &session)
        Self.press(&session, .enter)
        let contextID = try #require(session.model.contextID)
        let removed = ContextEvent(
            sequence: session.model.sequence + 1,
            time: Date(timeIntervalSince1970: 100),
            context: contextID,
            change: .nodeRemoved(node: "provisioner-1", workspace: "provisioner")
        )
        session.apply(.events([removed]))
        #expect(session.model.index(ofNode: "provisioner-1") == nil)
        #expect(session.model.workspaces[try #require(session.model.index(ofWorkspace: "provisioner"))].nodes.count == 2)
        #expect(Self.marked(session).sorted() == ["aggregator-0", "provisioner-2"])
        let detail = try #require(session.state.detail)
        #expect(session.model.nodes[detail.node].name == "scheduler-0")
        #expect(session.model.counts.total == 5)
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
