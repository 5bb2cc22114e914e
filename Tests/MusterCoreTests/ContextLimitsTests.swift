import Foundation
import Testing

@testable import MusterCore

/// The engine's side of time limits: which commands are due when, and what they do. The broker owns the clock.
@Suite("Context limits")
struct ContextLimitsTests {
    static let document = """
        <cluster>
          <workspace><name>head</name><image>i</image><quantity>1</quantity><nic>public</nic>
            <ctx><provides><identity/><role>head</role></provides></ctx></workspace>
          <workspace><name>worker</name><image>i</image><quantity>2</quantity><nic>public</nic>
            <ctx><requires><role name="head"/></requires></ctx></workspace>
        </cluster>
        """

    func launched(_ limits: ContextLimits) throws -> EngineDriver {
        var driver = try EngineDriver(xml: Self.document)
        try driver.apply(.setLimits(context: driver.context, limits: limits))
        for node in driver.state.nodeNames { try driver.apply(.launch(context: driver.context, node: node)) }
        return driver
    }

    @Test func `nothing is due without limits, and there is no next deadline`() throws {
        var driver = try EngineDriver(xml: Self.document)
        for node in driver.state.nodeNames { try driver.apply(.launch(context: driver.context, node: node)) }
        #expect(driver.state.dueCommands(at: driver.now.addingTimeInterval(1_000_000)).isEmpty)
        #expect(driver.state.nextDeadline == nil)
    }

    @Test func `a node that has not checked in by its boot timeout is timed out; one that checked in is not`() throws {
        var driver = try launched(ContextLimits(bootTimeoutSeconds: 60))
        try driver.checkIn("head-0")
        let launchedAt = try #require(driver.state.nodes[driver.state.nodeIndex("worker-0")].launchedAt)
        #expect(driver.state.nextDeadline == launchedAt.addingTimeInterval(60))
        #expect(driver.state.dueCommands(at: launchedAt.addingTimeInterval(59)).isEmpty)
        let due = driver.state.dueCommands(at: launchedAt.addingTimeInterval(61))
        #expect(due.map(\.node) == ["worker-0", "worker-1"])
        for command in due { try driver.apply(command) }
        #expect(try driver.node("worker-0").state == .timedOut)
        #expect(try driver.node("worker-0").exitCode == NodeExitCode.timeout)
        #expect(try driver.node("head-0").state != .timedOut)
        #expect(driver.actions.contains(.stop(context: driver.context, node: "worker-1")), "its machine is stopped")
        #expect(driver.state.nextDeadline == nil, "nothing is left to time out")
    }

    @Test func `a retried node gets a boot timeout of its own from its new launch`() throws {
        var driver = try launched(ContextLimits(bootTimeoutSeconds: 60))
        let first = try #require(driver.state.nodes[driver.state.nodeIndex("head-0")].launchedAt)
        try driver.apply(.timeOut(context: driver.context, node: "head-0", message: "late"))
        driver.now = first.addingTimeInterval(500)
        try driver.apply(.retry(context: driver.context, node: "head-0"))
        let again = try #require(driver.state.nodes[driver.state.nodeIndex("head-0")].launchedAt)
        #expect(again > first.addingTimeInterval(499))
        #expect(!driver.state.dueCommands(at: again.addingTimeInterval(30)).contains { $0.node == "head-0" })
    }

    @Test func `when the lease ends the context is terminated and every node stopped, ok ones included`() throws {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        var driver = try launched(ContextLimits(leaseEnds: start.addingTimeInterval(3_600)))
        for node in driver.state.nodeNames {
            try driver.apply(.booted(context: driver.context, node: node))
            try driver.checkIn(node)
        }
        try driver.reportOK("head-0")
        #expect(driver.state.nextDeadline == start.addingTimeInterval(3_600))
        #expect(driver.state.dueCommands(at: start.addingTimeInterval(3_599)).isEmpty)
        let due = driver.state.dueCommands(at: start.addingTimeInterval(3_600))
        #expect(due == [.leaseEnded(context: driver.context)])
        driver.clearRecord()
        try driver.apply(due[0])
        #expect(driver.state.terminated)
        #expect(try driver.node("head-0").state == .ok, "an ok node keeps its result")
        #expect(try driver.node("worker-0").state == .killed)
        #expect(try driver.node("worker-0").message == "the context's lease ended")
        #expect(Set(driver.actions.compactMap { if case .stop(_, let node) = $0 { node } else { nil } }) == Set(driver.state.nodeNames))
        #expect(driver.state.dueCommands(at: start.addingTimeInterval(99_999)).isEmpty, "a terminated context has nothing due")
    }

    @Test func `past the deadline every unfinished node times out and the context completes with an error`() throws {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        var driver = try launched(ContextLimits(completeBy: start.addingTimeInterval(300)))
        try driver.apply(.booted(context: driver.context, node: "head-0"))
        try driver.checkIn("head-0")
        try driver.reportOK("head-0")
        for command in driver.state.dueCommands(at: start.addingTimeInterval(301)) { try driver.apply(command) }
        let status = driver.state.status
        #expect(status.complete && status.errorPresent && !status.allOk)
        #expect(status.count(.timedOut) == 2 && status.count(.ok) == 1)
        #expect(driver.state.nextDeadline == nil)
    }

    @Test func `limits and machine details travel as events and show in snapshots`() throws {
        var driver = try launched(ContextLimits(bootTimeoutSeconds: 30))
        #expect(driver.events.contains { if case .contextLimits(let limits) = $0.change { limits.bootTimeoutSeconds == 30 } else { false } })
        let details = MachineDetails(instanceID: "i-0abc", state: "running", privateIP: "10.0.0.5")
        try driver.apply(.machine(context: driver.context, node: "head-0", details: details))
        try driver.apply(.machine(context: driver.context, node: "head-0", details: details))
        #expect(driver.events.filter { $0.change.kind == "node-machine" }.count == 1, "the same details are not an event twice")
        #expect(try driver.node("head-0").machine == details)
        let snapshot = driver.state.snapshot(sequence: driver.engine.lastSequence)
        #expect(snapshot.limits?.bootTimeoutSeconds == 30)
        let encoded = try WireFormat.encoder().encode(driver.events.last!)
        #expect(try WireFormat.decoder().decode(ContextEvent.self, from: encoded) == driver.events.last!)
    }

    @Test func `a boot timeout under one second is refused`() throws {
        var driver = try EngineDriver(xml: Self.document)
        #expect(throws: EngineError.self) { try driver.apply(.setLimits(context: driver.context, limits: ContextLimits(bootTimeoutSeconds: 0))) }
    }
}

extension EngineCommand {
    /// The node a command is about, if one (for assertions).
    var node: String? {
        switch self {
        case .timeOut(_, let node, _), .kill(_, let node), .launch(_, let node), .retry(_, let node): node
        default: nil
        }
    }
}
