import Foundation
import MusterCore
import Testing

@testable import MusterConsole

/// A context whose nodes run on cloud machines: the lease left in the header, the machine in a node's detail.
@Suite("Machines and the lease in the console")
struct MachineViewTests {
    static let machine = MachineDetails(
        instanceID: "i-0abc1234def567890",
        state: "running",
        privateIP: "10.0.3.7",
        publicIP: "54.210.9.8",
        instanceType: "t3.small",
        zone: "us-east-1b"
    )

    @Test func `the header counts down the lease, and a node's detail names its machine, from the snapshot and from events`()
        throws
    {
        var script = try EngineScript(document: try EngineScript.cpeDocument())
        let leaseEnds = script.now + 2 * 3_600 + 1
        try script.apply(.setLimits(context: script.context, limits: ContextLimits(leaseEnds: leaseEnds)))
        try script.launch("rabbitmq-head-0")
        var session = ConsoleSession(broker: Scenes.broker, options: ConsoleOptions(), screen: ScreenSize(width: 160, height: 40))
        session.apply(.snapshot(try script.snapshot()))
        _ = script.takeEvents()
        #expect(session.model.limits?.leaseEnds == leaseEnds)

        // The machine arrives as an event, after the snapshot.
        try script.apply(.machine(context: script.context, node: "rabbitmq-head-0", details: Self.machine))
        session.apply(.events(script.takeEvents()))
        let head = try #require(session.model.index(ofNode: "rabbitmq-head-0"))
        #expect(session.model.nodes[head].machine == Self.machine)

        let header = ConsoleRenderer.render(session.frame(at: script.now)).text(ofRow: 0)
        #expect(header.contains("lease 1h59m left") || header.contains("lease 2h00m left"), "\(header)")
        let later = ConsoleRenderer.render(session.frame(at: leaseEnds + 1)).text(ofRow: 0)
        #expect(later.contains("lease ended"), "\(later)")

        while session.state.selectedNode(session.model) != head { _ = session.handle(.key(.character("j")), at: script.now) }
        _ = session.handle(.key(.enter), at: script.now)
        let detail = ConsoleRenderer.render(session.frame(at: script.now))
        let screen = (0..<40).map { detail.text(ofRow: $0) }.joined(separator: "\n")
        #expect(screen.contains("machine   i-0abc1234def567890  running  t3.small  us-east-1b  public 54.210.9.8  private 10.0.3.7"), "\(screen)")

        // A new session from a snapshot alone shows the same.
        var fresh = ConsoleSession(broker: Scenes.broker, options: ConsoleOptions(), screen: ScreenSize(width: 160, height: 40))
        fresh.apply(.snapshot(try script.snapshot()))
        #expect(fresh.model.nodes[head].machine == Self.machine)
        #expect(fresh.model.limits?.leaseEnds == leaseEnds)
    }
}
