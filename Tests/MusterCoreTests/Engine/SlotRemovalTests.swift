import Foundation
import Testing

@testable import MusterCore

/// Removing slots (`muster remove`, the console's `:scale WORKSPACE -N`): the workspace shrinks and what its
/// requirers wait for with it.
@Suite("Slot removal")
struct SlotRemovalTests {
    /// A head that waits for every worker to check in, and three workers.
    static let farm = cluster(
        workspace("head", requires: "<identity/><role name=\"worker\"/>"),
        workspace("worker", quantity: 3, provides: "<identity/><role>worker</role>")
    )

    @Test func `removing a provider that never came up releases the node that waited for it`() throws {
        var driver = try EngineDriver(xml: Self.farm)
        try driver.bringUp("worker-0")
        try driver.bringUp("worker-1")
        try driver.bringUp("head-0")
        #expect(try driver.node("head-0").state == .waiting)
        try driver.apply(.launch(context: driver.context, node: "worker-2"))
        try driver.apply(.launchFailed(context: driver.context, node: "worker-2", message: "no capacity"))
        driver.clearRecord()

        try driver.apply(.removeNodes(context: driver.context, nodes: ["worker-2"]))
        #expect(driver.state.nodeNames == ["head-0", "worker-0", "worker-1"])
        #expect(throws: EngineError.self) { try driver.node("worker-2") }
        #expect(driver.released == ["head-0"])
        let answer = try #require(try driver.answer("head-0"))
        #expect(answer.roles.first?.providers.map(\.node) == ["worker-0", "worker-1"])
        let changes = driver.events.map(\.change)
        #expect(changes.first == .nodeRemoved(node: "worker-2", workspace: "worker"))
        #expect(changes.contains(.roleProgress(RoleStatus(role: "worker", registered: 2, ready: 0, expected: 2))))
        #expect(changes.contains(.registrationProgress(registered: 3, expected: 3)))
        #expect(driver.actions.contains(.stop(context: driver.context, node: "worker-2")), "a machine kept for a look goes with its slot")
        #expect(driver.state.status.expected == 3)
        #expect(driver.state.status.count(.failed) == 0)
    }

    @Test func `a running node cannot be removed, nor a workspace's last node, nor an unknown one; nothing changes then`() throws {
        var driver = try EngineDriver(xml: Self.farm)
        try driver.bringUp("worker-0")
        driver.clearRecord()
        let running = try #require(throws: EngineError.self) { try driver.apply(.removeNodes(context: driver.context, nodes: ["worker-0"])) }
        #expect(running.code == .conflict)
        #expect(running.message.contains("kill it first"))
        let last = try #require(throws: EngineError.self) { try driver.apply(.removeNodes(context: driver.context, nodes: ["head-0"])) }
        #expect(last.code == .conflict)
        #expect(last.message.contains("workspace 'head' would have no node left"))
        let unknown = try #require(throws: EngineError.self) {
            try driver.apply(.removeNodes(context: driver.context, nodes: ["worker-1", "worker-9"]))
        }
        #expect(unknown.code == .unknownNode)
        #expect(driver.state.nodeNames == ["head-0", "worker-0", "worker-1", "worker-2"], "a refused removal removes nothing")
        #expect(driver.events.isEmpty)
    }

    @Test func `names of removed slots are never used again, and slots added later count on from the highest`() throws {
        var driver = try EngineDriver(xml: Self.farm)
        try driver.apply(.removeNodes(context: driver.context, nodes: ["worker-1", "worker-2"]))
        try driver.apply(.addNodes(context: driver.context, workspace: "worker", count: 2))
        #expect(driver.state.nodeNames == ["head-0", "worker-0", "worker-3", "worker-4"])
        #expect(try driver.node("worker-4").slot == 4)
    }

    @Test func `released requirers hear that a provider they were told of is gone`() throws {
        var driver = try EngineDriver(xml: Self.farm)
        for node in ["worker-0", "worker-1", "worker-2", "head-0"] { try driver.bringUp(node) }
        #expect(try driver.node("head-0").state == .configuring)
        let before = try #require(try driver.answer("head-0")).version
        try driver.apply(.kill(context: driver.context, node: "worker-1"))
        try driver.apply(.retry(context: driver.context, node: "worker-1"))
        try driver.apply(.booted(context: driver.context, node: "worker-1"))
        try driver.checkIn("worker-1")
        try driver.apply(.report(context: driver.context, node: "worker-1", result: .error(code: 4, message: "script failed")))
        let told = try #require(try driver.answer("head-0")).version
        #expect(told > before)
        driver.clearRecord()
        try driver.apply(.removeNodes(context: driver.context, nodes: ["worker-1"]))
        #expect(driver.notified == [["head-0"]])
        let answer = try #require(try driver.answer("head-0"))
        #expect(answer.version == told + 1)
        #expect(answer.roles.first?.providers.map(\.node) == ["worker-0", "worker-2"])
        #expect(!answer.identities.map(\.node).contains("worker-1"))
    }

    @Test func `replaying the commands, or restoring a saved state, gives the same context after a removal`() throws {
        var driver = try EngineDriver(xml: Self.farm)
        try driver.bringUp("worker-0")
        try driver.apply(.removeNodes(context: driver.context, nodes: ["worker-1"]))
        try driver.apply(.addNodes(context: driver.context, workspace: "worker", count: 1))
        try driver.bringUp("worker-3")

        var replayed = ContextEngine()
        var events: [ContextEvent] = []
        for (command, time) in driver.commands { events += try replayed.apply(command, at: time).events }
        #expect(events == driver.events)
        #expect(try replayed.snapshot(of: driver.context) == (try driver.engine.snapshot(of: driver.context)))

        var restored = try JSONDecoder().decode(ContextEngine.self, from: try JSONEncoder().encode(driver.engine))
        var original = driver.engine
        let time = driver.now + 1
        let restoredAdd = try restored.apply(.addNodes(context: driver.context, workspace: "worker", count: 1), at: time)
        let originalAdd = try original.apply(.addNodes(context: driver.context, workspace: "worker", count: 1), at: time)
        #expect(restoredAdd == originalAdd)
        #expect(try restored.context(driver.context).nodeNames.last == "worker-4")
    }

    @Test func `a context saved before slots could be removed counts its slots from its nodes`() throws {
        var driver = try EngineDriver(xml: Self.farm)
        try driver.apply(.addNodes(context: driver.context, workspace: "worker", count: 1))
        // An old saved state has no slot counter: take it out of the JSON.
        var json = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(driver.engine)) as? [String: Any])
        json = Self.removingKey("slotsMade", from: json) as! [String: Any]
        var old = try JSONDecoder().decode(ContextEngine.self, from: try JSONSerialization.data(withJSONObject: json))
        _ = try old.apply(.removeNodes(context: driver.context, nodes: ["worker-3"]), at: driver.now + 1)
        _ = try old.apply(.addNodes(context: driver.context, workspace: "worker", count: 1), at: driver.now + 2)
        #expect(try old.context(driver.context).nodeNames == ["head-0", "worker-0", "worker-1", "worker-2", "worker-4"])
    }

    static func removingKey(_ key: String, from value: Any) -> Any {
        if let object = value as? [String: Any] {
            var result: [String: Any] = [:]
            for (name, inner) in object where name != key { result[name] = removingKey(key, from: inner) }
            return result
        }
        if let array = value as? [Any] { return array.map { removingKey(key, from: $0) } }
        return value
    }
}
