import Foundation
import MusterAgent
import MusterCore
import Testing

@Suite("Node configurator", .timeLimit(.minutes(5)))
struct NodeConfiguratorTests {
    typealias Seed = SeedCluster

    func configurator(_ node: TemporaryNode, _ reporter: RecordingReporter = RecordingReporter()) throws -> NodeConfigurator {
        NodeConfigurator(own: [Seed.provisioner], phases: try node.phases(reporter))
    }

    @Test("the first answer runs the full plan; a newer one only what is new; the same one nothing")
    func lateJoiner() async throws {
        try await TemporaryNode.with { node in
            try node.script("1-ipandhost/rabbitmq-head", appendingScript("joined.log"))
            try node.script("2-thishost/publicnic", appendingScript("thishost.log"))
            let first = try await configurator(node).apply(Seed.dependentAnswer(), outputIndex: 0)
            #expect(first.result == .ok && first.work == .full)
            #expect(node.lines("joined.log") == ["10.0.3.1 foo foo.bar.com"])

            var joined = Seed.dependentAnswer(version: 2)
            let second = Identity(interface: "publicnic", ip: "10.0.3.9", hostname: "head2.bar.com", pubkey: Seed.key("head2"))
            joined.roles[0].providers.append(RoleAnswer.Provider(node: "rabbitmq-head-1", identity: second))
            let reporter = RecordingReporter()
            let later = try await configurator(node, reporter).apply(joined, outputIndex: first.nextOutputIndex)
            #expect(later.result == .ok && later.work == .incremental(from: 1))
            #expect(node.lines("joined.log") == ["10.0.3.1 foo foo.bar.com", "10.0.3.9 head2 head2.bar.com"])
            #expect(node.lines("thishost.log").count == 1)
            #expect(node.lines("etc/hosts").contains("10.0.3.9 head2.bar.com head2"))
            #expect(node.lines("etc/ssh/ssh_known_hosts").contains("head2,10.0.3.9 \(Seed.keyField("head2"))"))
            #expect(reporter.lines.first?.index == first.nextOutputIndex)

            let again = try await configurator(node).apply(joined, outputIndex: 0)
            #expect(again.result == .ok && again.work == .alreadyApplied)
            #expect(again.nextOutputIndex == later.nextOutputIndex)
            #expect(node.lines("joined.log").count == 2)
        }
    }

    @Test("a failed node stays failed when its agent restarts, without running anything again")
    func failedStaysFailed() async throws {
        try await TemporaryNode.with { node in
            try node.script("2-thishost/publicnic", "#!/bin/sh\necho \"$*\" >> \"$MUSTER_ROOT/runs.log\"\nexit 2\n")
            let failed = try await configurator(node).apply(Seed.dependentAnswer(), outputIndex: 0)
            let reporter = RecordingReporter()
            let restarted = try await configurator(node, reporter).apply(Seed.dependentAnswer(), outputIndex: 0)
            #expect(restarted.work == .alreadyFailed)
            #expect(restarted.result == failed.result)
            #expect(node.lines("runs.log").count == 1)
            #expect(reporter.events.isEmpty)
        }
    }

    @Test("a data value without a 3-data folder ends the node with code 2")
    func configurationError() async throws {
        try await TemporaryNode.with { node in
            let outcome = try await configurator(node).apply(Seed.dependentAnswer(data: [DataSpec(name: "foo", value: "bar")]), outputIndex: 0)
            guard case .error(let code, _) = outcome.result else {
                Issue.record("expected an error")
                return
            }
            #expect(code == NodeExitCode.configuration)
        }
    }

    @Test("the progress record never holds a data value")
    func recordWithoutValues() async throws {
        try await TemporaryNode.with { node in
            try node.script("3-data/foo", "#!/bin/sh\ntrue\n")
            let outcome = try await configurator(node).apply(
                Seed.dependentAnswer(data: [DataSpec(name: "foo", value: "s3cr3t-value")]),
                outputIndex: 0
            )
            #expect(outcome.result == .ok)
            let record = try #require(node.text(".muster-agent/progress.json"))
            #expect(record.contains("\"3-data/foo\""))
            #expect(!record.contains("s3cr3t-value"))
        }
    }
}
