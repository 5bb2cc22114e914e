import Foundation
import MusterCore
import Testing

@testable import MusterConsole

/// Find and sort in the tree: the filter's words (plain text, `/regex/`, `!`, `field:value`) and the sort keys
/// (shift+letter, as in k9s).
@Suite("Find and sort")
struct FindAndSortTests {
    static let size = ScreenSize(width: 120, height: 40)

    /// The names of the model's nodes that `filter` lets through, in slot order.
    static func matching(_ filter: String, _ model: ConsoleModel) -> [String] {
        let parsed = NodeFilter(filter)
        return model.nodes.filter { parsed.matches($0, workspace: model.workspaces[$0.workspace].name) }.map(\.name)
    }

    static func press(_ session: inout ConsoleSession, _ keys: Key...) {
        for key in keys { _ = session.handle(.key(key), at: Date(timeIntervalSince1970: 0)) }
    }

    static func type(_ session: inout ConsoleSession, _ text: String) {
        for character in text { press(&session, .character(character)) }
    }

    /// The nodes the tree lists, in row order.
    static func shown(_ session: ConsoleSession) -> [String] {
        session.state.tree.shownNodes(session.model).map { session.model.nodes[$0].name }
    }

    // The progress scene: rabbitmq-head-0 ok, provisioner-0 ok, provisioner-1 launching, provisioner-2 pending,
    // scheduler-0 failed, aggregator-0 configuring; the first four checked in with 10.0.0.1 to 10.0.0.4.

    @Test func `plain text matches a part of the name, the state, the address or the host name, in any case`() throws {
        let (session, _) = try Scenes.progress(size: Self.size)
        let model = session.model
        #expect(Self.matching("SCHED", model) == ["scheduler-0"])
        #expect(Self.matching("prov", model) == ["provisioner-0", "provisioner-1", "provisioner-2"])
        #expect(Self.matching("failed", model) == ["scheduler-0"], "the state")
        #expect(Self.matching("pend", model) == ["provisioner-2"])
        #expect(Self.matching("10.0.0.4", model) == ["aggregator-0"], "the address")
        #expect(Self.matching("aggregator-0.ctx-1", model) == ["aggregator-0"], "the host name")
        #expect(Self.matching("prov ok", model) == ["provisioner-0"], "every word must match")
        #expect(Self.matching("nothing-like-this", model).isEmpty)
    }

    @Test func `a word between slashes is a case-insensitive regular expression`() throws {
        let (session, _) = try Scenes.progress(size: Self.size)
        let model = session.model
        #expect(Self.matching("/^(scheduler|aggregator)-0$/", model) == ["scheduler-0", "aggregator-0"])
        #expect(Self.matching("/-[12]$/", model) == ["provisioner-1", "provisioner-2"])
        #expect(Self.matching("/^PROV.*-0$/", model) == ["provisioner-0"])
        #expect(Self.matching("/^10\\.0\\.0\\.[13]$/", model) == ["rabbitmq-head-0", "scheduler-0"], "addresses too")
    }

    @Test func `! inverts the word after it, and a lone ! inverts the whole filter`() throws {
        let (session, _) = try Scenes.progress(size: Self.size)
        let model = session.model
        #expect(Self.matching("!provisioner", model) == ["rabbitmq-head-0", "scheduler-0", "aggregator-0"])
        #expect(Self.matching("prov !ok", model) == ["provisioner-1", "provisioner-2"])
        #expect(Self.matching("!/-0$/", model) == ["provisioner-1", "provisioner-2"])
        #expect(Self.matching("!!sched", model) == ["scheduler-0"], "twice is not at all")
        // Not (provisioner and ok): everything but provisioner-0.
        #expect(Self.matching("! ws:provisioner state:ok", model).count == model.nodes.count - 1)
        #expect(!Self.matching("! ws:provisioner state:ok", model).contains("provisioner-0"))
        #expect(Self.matching("!", model).count == model.nodes.count, "a lone ! with nothing to invert filters nothing")
    }

    @Test func `field words match one field exactly: state, ws, name, ip, host and waits`() throws {
        let (session, _) = try Scenes.progress(size: Self.size)
        let model = session.model
        #expect(Self.matching("state:failed", model) == ["scheduler-0"])
        #expect(Self.matching("STATE:OK", model) == ["rabbitmq-head-0", "provisioner-0"], "field and value in any case")
        #expect(Self.matching("ws:provisioner state:pending", model) == ["provisioner-2"])
        #expect(Self.matching("workspace:sched", model).isEmpty, "a workspace is named whole")
        #expect(Self.matching("name:head", model) == ["rabbitmq-head-0"])
        #expect(Self.matching("ip:10.0.0.", model) == ["rabbitmq-head-0", "provisioner-0", "scheduler-0", "aggregator-0"], "a prefix")
        #expect(Self.matching("host:aggregator", model) == ["aggregator-0"])
        #expect(Self.matching("state:timedout", model).isEmpty)
        #expect(Self.matching("color:red", model).isEmpty, "an unknown field is plain text, which matches nothing here")

        let (stuck, _) = try Scenes.stuck(size: Self.size)
        #expect(Self.matching("waits:rabbitmq-head", stuck.model) == ["provisioner-0", "scheduler-0", "aggregator-0"])
        #expect(Self.matching("waits:identities ws:scheduler", stuck.model) == ["scheduler-0"], "identities is the wait on every node")
    }

    @Test func `a bad regular expression is an error on the status line, and the tree shows every node`() throws {
        let parsed = NodeFilter("state:ok /[unclosed/")
        #expect(parsed.problem == "/[unclosed/ is not a regular expression")
        #expect(parsed.isEmpty, "a filter that cannot be read filters nothing")

        var (session, _) = try Scenes.progress(size: Self.size)
        Self.press(&session, .character("/"))
        Self.type(&session, "/[unclosed/")
        Self.press(&session, .enter)
        #expect(session.state.status?.text == "/[unclosed/ is not a regular expression; the filter shows every node")
        #expect(session.state.status?.kind == .error)
        #expect(Self.shown(session).count == session.model.nodes.count)
        // A good filter after it works.
        Self.press(&session, .character("/"), .control("u"))
        Self.type(&session, "/^sched/")
        Self.press(&session, .enter)
        #expect(Self.shown(session) == ["scheduler-0"])
    }

    // MARK: Sorting

    /// One workspace of twelve nodes, checked in from the last to the first (so app-11 has 10.0.0.1 and app-0
    /// 10.0.0.11) except app-3, which only booted; then app-7 ok, app-2 failed and app-9 killed.
    static func twelve() throws -> (ConsoleSession, EngineScript) {
        let document = ClusterDocument(workspaces: [
            WorkspaceSpec(
                name: "app",
                image: "app.img",
                quantity: 12,
                nics: [NICSpec(network: "public")],
                provides: ProvidesSpec(identities: [ProvidedIdentity()])
            )
        ])
        var script = try EngineScript(document: document, name: "twelve")
        let initial = try script.snapshot()
        _ = script.takeEvents()
        for node in script.nodeNames { try script.start(node) }
        for slot in [11, 10, 9, 8, 7, 6, 5, 4, 2, 1, 0] { try script.checkIn("app-\(slot)") }
        try script.reportOK("app-7")
        try script.reportError("app-2", code: 4, message: "exit 4")
        try script.kill("app-9")
        return (Scenes.session(&script, initial: initial, size: Self.size), script)
    }

    static func names(_ slots: [Int]) -> [String] { slots.map { "app-\($0)" } }

    @Test func `N sorts by name in natural order, again reverses it, a third time goes back to slot order`() throws {
        var (session, _) = try Self.twelve()
        #expect(Self.shown(session) == Self.names(Array(0...11)))
        Self.press(&session, .character("N"))
        #expect(Self.shown(session) == Self.names(Array(0...11)), "app-2 before app-10")
        #expect(session.state.status?.text == "sorted by name")
        Self.press(&session, .character("N"))
        #expect(Self.shown(session) == Self.names(Array((0...11).reversed())))
        #expect(session.state.status?.text == "sorted by name, reversed")
        Self.press(&session, .character("N"))
        #expect(session.state.tree.sort == .slot)
        #expect(session.state.status?.text == "sorted by slot")
    }

    @Test func `S sorts by state in lifecycle order, and a node that changes state moves`() throws {
        var (session, script) = try Self.twelve()
        Self.press(&session, .character("S"))
        #expect(Self.shown(session) == Self.names([3, 0, 1, 4, 5, 6, 8, 10, 11, 7, 2, 9]), "booted, configuring (slot order), ok, failed, killed")
        try script.reportOK("app-0")
        session.apply(.events(script.takeEvents()))
        #expect(Self.shown(session) == Self.names([3, 1, 4, 5, 6, 8, 10, 11, 0, 7, 2, 9]), "app-0 is ok now")
        Self.press(&session, .character("S"))
        #expect(Self.shown(session).first == "app-9", "reversed: killed first")
    }

    @Test func `A sorts by age, the longest in its state first`() throws {
        var (session, _) = try Self.twelve()
        Self.press(&session, .character("A"))
        #expect(Self.shown(session) == Self.names([3, 11, 10, 8, 6, 5, 4, 1, 0, 7, 2, 9]))
    }

    @Test func `I sorts by address numerically, nodes without one last`() throws {
        var (session, _) = try Self.twelve()
        Self.press(&session, .character("I"))
        // 10.0.0.1 … 10.0.0.11 were handed out from app-11 down to app-0 (app-3 has none): 10.0.0.2 comes before
        // 10.0.0.10, which a text order would not give.
        #expect(Self.shown(session) == Self.names([11, 10, 9, 8, 7, 6, 5, 4, 2, 1, 0, 3]))
        Self.press(&session, .character("I"))
        #expect(Self.shown(session).first == "app-3")
    }

    @Test func `the sort applies within each workspace and keeps the filter`() throws {
        var (session, _) = try Scenes.progress(size: Self.size)
        Self.press(&session, .character("/"))
        Self.type(&session, "prov")
        Self.press(&session, .enter)
        Self.press(&session, .character("S"))
        #expect(Self.shown(session) == ["provisioner-2", "provisioner-1", "provisioner-0"], "pending, launching, ok")
        #expect(session.state.tree.filter == "prov")
    }
}
