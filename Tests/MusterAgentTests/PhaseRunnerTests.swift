import Foundation
import MusterAgent
import MusterCore
import Testing

@Suite("Phase runner", .timeLimit(.minutes(5)))
struct PhaseRunnerTests {
    typealias Seed = SeedCluster

    @Test("a seed dependent runs its scripts in order; every line is reported, numbered on from the given index")
    func seedRun() async throws {
        try await TemporaryNode.with { node in
            try node.script("0-etchosts.sh", appendingScript("etchosts.log"))
            try node.script("1-ipandhost/rabbitmq-head", seedIPAndHostScript)
            let reporter = RecordingReporter()
            let outcome = try await node.phases(reporter).run(try node.seedPlan(), outputIndex: 7)
            #expect(outcome.result == .ok)
            #expect(
                node.lines("etchosts.log")
                    == [Seed.head, Seed.provisioner, Seed.scheduler, Seed.aggregator].map { Seed.arguments($0).joined(separator: " ") }
            )
            #expect(
                reporter.started.map(\.script) == [
                    "0-etchosts.sh", "0-etchosts.sh", "0-etchosts.sh", "0-etchosts.sh", "built-in/hosts", "1-ipandhost/rabbitmq-head",
                ]
            )

            let ref = ScriptRef(phase: 1, script: "1-ipandhost/rabbitmq-head", arguments: ["10.0.3.1", "foo", "foo.bar.com"])
            let events = reporter.events.drop { $0 != .started(ref) }.map(\.description)
            let first = try #require(reporter.lines.first { $0.script == ref.script }).index
            #expect(
                events == [
                    "started 1-ipandhost/rabbitmq-head [\"10.0.3.1\", \"foo\", \"foo.bar.com\"]",
                    "\(first) agent 1-ipandhost/rabbitmq-head: running 1-ipandhost/rabbitmq-head 10.0.3.1 foo foo.bar.com",
                    "\(first + 1) stdout 1-ipandhost/rabbitmq-head: RabbitMQ-head IP: 10.0.3.1",
                    "\(first + 2) stdout 1-ipandhost/rabbitmq-head: RabbitMQ-head Short hostname: foo",
                    "\(first + 3) stdout 1-ipandhost/rabbitmq-head: RabbitMQ-head Hostname: foo.bar.com",
                    "\(first + 4) agent 1-ipandhost/rabbitmq-head: 1-ipandhost/rabbitmq-head exited with code 0",
                    "finished 1-ipandhost/rabbitmq-head 0",
                ]
            )
            #expect(reporter.lines.map(\.index) == Array(7..<(7 + reporter.lines.count)))
            #expect(outcome.nextOutputIndex == 7 + reporter.lines.count)
            #expect(reporter.lines.allSatisfy { $0.phase == ($0.script.hasPrefix("1-") ? 1 : 0) })
        }
    }

    @Test("the built-in step writes etc/hosts and the known hosts under the node root only")
    func hostFilesUnderRoot() async throws {
        try await TemporaryNode.with { node in
            let outcome = try await node.phases(RecordingReporter()).run(try node.seedPlan(), outputIndex: 0)
            #expect(outcome.result == .ok)
            #expect(node.lines("etc/hosts").contains("10.0.3.1 foo.bar.com foo"))
            #expect(node.lines("etc/ssh/ssh_known_hosts").contains("foo.bar.com,10.0.3.1 \(Seed.keyField("head"))"))
            #expect(node.lines("etc/ssh/ssh_known_hosts").contains("foo,10.0.3.1 \(Seed.keyField("head"))"))
            #expect(node.lines("etc/hosts.equiv").contains("foo.bar.com"))
            let top = try FileManager.default.contentsOfDirectory(atPath: node.root.path).sorted()
            #expect(top == [".muster-agent", "ctx-scripts", "etc"])
        }
    }

    @Test("a failing script stops the run with code 4, naming the script, its exit code and the tail of its output")
    func failureStops() async throws {
        try await TemporaryNode.with { node in
            try node.script("2-thishost/publicnic", "#!/bin/sh\nfor i in $(seq 1 25); do echo \"line $i\"; done\nexit 3\n")
            try node.script("4-restarts/rabbitmq-head", appendingScript("restarts.log"))
            let reporter = RecordingReporter()
            let outcome = try await node.phases(reporter).run(try node.seedPlan(), outputIndex: 0)
            guard case .error(let code, let message) = outcome.result else {
                Issue.record("expected an error, got \(String(describing: outcome.result))")
                return
            }
            #expect(code == NodeExitCode.execution)
            let lines = message.split(separator: "\n").map(String.init)
            #expect(lines.first == "2-thishost/publicnic 10.0.3.2 provisioner-0 provisioner-0.ctx.muster.local exited with code 3")
            #expect(Array(lines.dropFirst()) == ["last 20 lines of output:"] + (6...25).map { "  line \($0)" })
            #expect(!node.exists("restarts.log"))
            #expect(reporter.started.last?.script == "2-thishost/publicnic")
            #expect(
                reporter.events.last == .finished(ScriptRef(phase: 2, script: "2-thishost/publicnic", arguments: Seed.arguments(Seed.provisioner)), 3)
            )
        }
    }

    @Test func `a failed script's message quotes long lines cut short, so that its report fits the broker's 64 KiB limit`() async throws {
        try await TemporaryNode.with { node in
            // 20 lines of 16 KiB each: the tail quoted whole would be 320 KiB.
            try node.script("2-thishost/publicnic", "#!/bin/sh\nfor i in $(seq 1 20); do head -c 16384 /dev/zero | tr '\\0' x; echo; done\nexit 1\n")
            let outcome = try await node.phases(RecordingReporter()).run(try node.seedPlan(), outputIndex: 0)
            guard case .error(_, let message) = outcome.result else {
                Issue.record("expected an error, got \(String(describing: outcome.result))")
                return
            }
            #expect(message.utf8.count < 16 * 1024, "\(message.utf8.count) bytes")
            #expect(message.split(separator: "\n").dropFirst(2).allSatisfy { $0.hasSuffix("x…") })
        }
    }

    @Test("standard error lines are marked in a failed script's message")
    func failureMarksStandardError() async throws {
        try await TemporaryNode.with { node in
            try node.script("1-ipandhost/rabbitmq-head", "#!/bin/sh\necho 'cannot reach the head' >&2\nexit 1\n")
            let outcome = try await node.phases(RecordingReporter()).run(try node.seedPlan(), outputIndex: 0)
            #expect(
                outcome.result
                    == .error(
                        code: 4,
                        message: "1-ipandhost/rabbitmq-head 10.0.3.1 foo foo.bar.com exited with code 1\noutput:\n  [stderr] cannot reach the head"
                    )
            )
        }
    }

    @Test("a script that hangs is stopped at its timeout and the node fails with \"timed out after N s\"")
    func timeoutFails() async throws {
        try await TemporaryNode.with { node in
            try node.script("1-ipandhost/rabbitmq-head", "#!/bin/sh\necho waiting\nsleep 1000 &\nwait\n")
            let outcome = try await node.phases(RecordingReporter(), timeout: .milliseconds(500)).run(try node.seedPlan(), outputIndex: 0)
            guard case .error(let code, let message) = outcome.result else {
                Issue.record("expected an error")
                return
            }
            #expect(code == 4)
            #expect(message.hasPrefix("1-ipandhost/rabbitmq-head 10.0.3.1 foo foo.bar.com timed out after 0.5 s\noutput:\n  waiting"))
        }
    }

    @Test("a 3-data script gets a 0600 file holding the value byte for byte, removed once the script ends")
    func dataFile() async throws {
        try await TemporaryNode.with { node in
            try node.script(
                "3-data/foo",
                """
                #!/bin/sh
                cat "$1" > "$MUSTER_ROOT/copy"
                stat -c %a "$1" > "$MUSTER_ROOT/mode"
                echo "$1" > "$MUSTER_ROOT/path"
                """
            )
            let value = "first line\n  ünïcödé  \r\n<![CDATA[ x ]]>\ttrailing without newline "
            let outcome = try await node.phases(RecordingReporter())
                .run(try node.seedPlan(Seed.dependentAnswer(data: [DataSpec(name: "foo", value: value)])), outputIndex: 0)
            #expect(outcome.result == .ok)
            #expect(FileManager.default.contents(atPath: node.root.appendingPathComponent("copy").path) == Data(value.utf8))
            #expect(node.lines("mode") == ["600"])
            let path = try #require(node.lines("path").first)
            #expect(path.hasPrefix(node.layout.dataFolder.path + "/"))
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("the value file is removed when its script fails too, and the value is not in the error message")
    func dataFileRemovedOnFailure() async throws {
        try await TemporaryNode.with { node in
            try node.script("3-data/secret", "#!/bin/sh\necho \"$1\" > \"$MUSTER_ROOT/path\"\nexit 1\n")
            let answer = Seed.dependentAnswer(data: [DataSpec(name: "secret", value: "hunter2")])
            let outcome = try await node.phases(RecordingReporter()).run(try node.seedPlan(answer), outputIndex: 0)
            guard case .error(4, let message) = outcome.result else {
                Issue.record("expected error 4")
                return
            }
            #expect(message.hasPrefix("3-data/secret <secret value file> exited with code 1"))
            #expect(!message.contains("hunter2"))
            let path = try #require(node.lines("path").first)
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("a restarted agent skips the steps that completed and runs the rest")
    func resume() async throws {
        try await TemporaryNode.with { node in
            try node.script("0-etchosts.sh", appendingScript("etchosts.log"))
            try node.script("2-thishost/publicnic", "#!/bin/sh\n[ -e \"$MUSTER_ROOT/fixed\" ] || exit 1\necho configured\n")
            try node.script("5-thishost-finalize/publicnic", appendingScript("finalize.log"))
            let first = RecordingReporter()
            #expect(try await node.phases(first).run(try node.seedPlan(), outputIndex: 0).result != .ok)
            #expect(node.lines("etchosts.log").count == 4)

            _ = FileManager.default.createFile(atPath: node.root.appendingPathComponent("fixed").path, contents: nil)
            let second = RecordingReporter()
            let outcome = try await node.phases(second).run(try node.seedPlan(), outputIndex: 100)
            #expect(outcome.result == .ok)
            #expect(node.lines("etchosts.log").count == 4)
            #expect(node.lines("finalize.log").count == 1)
            #expect(second.started.map(\.script) == ["built-in/hosts", "2-thishost/publicnic", "5-thishost-finalize/publicnic"])
            #expect(second.lines.filter { $0.text.hasSuffix("completed before the agent restarted; not run again") }.count == 4)
        }
    }

    @Test("a record for another slot generation is discarded: a retried node starts over")
    func newGenerationStartsOver() async throws {
        try await TemporaryNode.with { node in
            try node.script("0-etchosts.sh", appendingScript("etchosts.log"))
            #expect(try await node.phases(RecordingReporter()).run(try node.seedPlan(), outputIndex: 0).result == .ok)
            #expect(try await node.phases(RecordingReporter(), generation: 1).run(try node.seedPlan(), outputIndex: 0).result == .ok)
            #expect(node.lines("etchosts.log").count == 8)
        }
    }
}
