import Foundation
import MusterAgent
import MusterCore
import MusterSystem
import Synchronization
import Testing

@Suite("Script runner", .timeLimit(.minutes(5)))
struct ScriptRunnerTests {
    /// Runs a script and collects its lines as "stream: text".
    func run(
        _ node: TemporaryNode,
        _ script: URL,
        _ arguments: [String] = [],
        timeout: Duration = .seconds(30),
        grace: Duration = .seconds(5),
        busyRetryLimit: Duration = .seconds(10),
        environment: [String: String?] = [:]
    )
        async -> (ScriptOutcome, [String])
    {
        var lines: [String] = []
        let invocation = ScriptInvocation(
            script: script,
            arguments: arguments,
            workingDirectory: node.scripts,
            environment: environment,
            timeout: timeout
        )
        let outcome = await ScriptRunner(grace: grace, busyRetryLimit: busyRetryLimit).run(invocation) { line in
            lines.append("\(line.stream.rawValue): \(line.text)")
        }
        return (outcome, lines)
    }

    @Test("the seed's 1-ipandhost script gets IP, short name and FQDN; its lines arrive in order")
    func seedScript() async throws {
        try await TemporaryNode.with { node in
            let script = try node.script(
                "1-ipandhost/rabbitmq-head",
                """
                #!/bin/sh
                echo "RabbitMQ-head IP: $1"
                echo "RabbitMQ-head Short hostname: $2"
                echo "RabbitMQ-head Hostname: $3"
                exit 0
                """
            )
            let (outcome, lines) = await run(node, script, ["10.0.3.1", "foo", "foo.bar.com"])
            #expect(outcome == .exited(0))
            #expect(
                lines == [
                    "stdout: RabbitMQ-head IP: 10.0.3.1", "stdout: RabbitMQ-head Short hostname: foo", "stdout: RabbitMQ-head Hostname: foo.bar.com",
                ]
            )
        }
    }

    @Test("stdout and stderr lines keep the order the script wrote them in, across both streams")
    func streamsInterleavedInOrder() async throws {
        try await TemporaryNode.with { node in
            // The streams take turns, each line written only once the one before it has been handed over (the
            // callback leaves a file the script waits for): each line must arrive while the script is still
            // running, on the stream it was written to, however loaded the machine. (Written a fixed moment apart
            // instead, a test process starved for longer than that moment saw two lines at once.)
            let script = try node.script(
                "interleaved",
                """
                #!/bin/sh
                seen() { while [ ! -e "seen-$1" ]; do sleep 0.005; done; }
                i=1
                while [ $i -le 20 ]; do echo "out $i"; seen "out-$i"; echo "err $i" >&2; seen "err-$i"; i=$((i+1)); done
                """
            )
            var lines: [String] = []
            let invocation = ScriptInvocation(script: script, workingDirectory: node.scripts, timeout: .seconds(120))
            let outcome = await ScriptRunner().run(invocation) { line in
                lines.append("\(line.stream.rawValue): \(line.text)")
                let marker = line.text.replacingOccurrences(of: " ", with: "-")
                _ = FileManager.default.createFile(atPath: node.scripts.appendingPathComponent("seen-\(marker)").path, contents: nil)
            }
            #expect(outcome == .exited(0))
            #expect(lines == (1...20).flatMap { ["stdout: out \($0)", "stderr: err \($0)"] })
        }
    }

    @Test("a background process that keeps the output pipes open does not hold the script's end")
    func backgroundHolderDoesNotBlock() async throws {
        try await TemporaryNode.with { node in
            let script = try node.script(
                "holder",
                """
                #!/bin/sh
                echo starting
                sleep 30 &
                echo started
                """
            )
            // Waiting for the background process would run into the script's timeout (20 s, before its 30 s sleep ends).
            let (outcome, lines) = await run(node, script, timeout: .seconds(20))
            #expect(outcome == .exited(0))
            #expect(lines == ["stdout: starting", "stdout: started"])
        }
    }

    @Test("stdout and stderr stay apart, each in its order, and an unterminated last line is kept")
    func streamsSeparated() async throws {
        try await TemporaryNode.with { node in
            let script = try node.script(
                "s",
                """
                #!/bin/sh
                for i in 1 2 3 4 5; do echo "out $i"; echo "err $i" >&2; done
                printf 'no newline'
                printf 'crlf\\r\\n' >&2
                exit 3
                """
            )
            let (outcome, lines) = await run(node, script)
            #expect(outcome == .exited(3))
            #expect(lines.filter { $0.hasPrefix("stdout") } == (1...5).map { "stdout: out \($0)" } + ["stdout: no newline"])
            #expect(lines.filter { $0.hasPrefix("stderr") } == (1...5).map { "stderr: err \($0)" } + ["stderr: crlf"])
        }
    }

    @Test("each line is delivered as it is printed, before the script ends")
    func linesArriveLive() async throws {
        try await TemporaryNode.with { node in
            // The script waits until the test has seen its first line (it then creates the go file).
            let go = node.root.appendingPathComponent("go")
            let script = try node.script(
                "live",
                """
                #!/bin/sh
                echo first
                while [ ! -e "\(go.path)" ]; do sleep 0.02; done
                echo second
                """
            )
            var seen: [String] = []
            let invocation = ScriptInvocation(script: script, workingDirectory: node.scripts, timeout: .seconds(30))
            let outcome = await ScriptRunner().run(invocation) { line in
                seen.append(line.text)
                if line.text == "first" { _ = FileManager.default.createFile(atPath: go.path, contents: nil) }
            }
            #expect(outcome == .exited(0))
            #expect(seen == ["first", "second"])
        }
    }

    @Test("scripts run in the ctx-scripts folder with the environment they are given")
    func workingDirectoryAndEnvironment() async throws {
        try await TemporaryNode.with { node in
            let script = try node.script("env", "#!/bin/sh\npwd\necho \"$MUSTER_NODE\"\necho \"home=${HOME-unset}\"\n")
            #expect(ProcessInfo.processInfo.environment["HOME"] != nil)
            let (_, lines) = await run(node, script, environment: ["MUSTER_NODE": "head-0", "HOME": nil])
            #expect(lines == ["stdout: \(node.scripts.resolvingSymlinksInPath().path)", "stdout: head-0", "stdout: home=unset"])
        }
    }

    @Test("a script without the execute bit runs with its #! interpreter, or /bin/sh, and says so")
    func notExecutable() async throws {
        try await TemporaryNode.with { node in
            let bash = try node.script("with-shebang", "#!/bin/bash -e\necho \"bash $BASH_VERSINFO $1\"\n", executable: false)
            let (outcome, lines) = await run(node, bash, ["x"])
            #expect(outcome == .exited(0))
            #expect(lines.first == "agent: with-shebang is not executable; running it with /bin/bash")
            #expect(lines.last?.hasPrefix("stdout: bash ") == true && lines.last?.hasSuffix(" x") == true)

            let plain = try node.script("plain", "echo plain \"$1\"\n", executable: false)
            let (plainOutcome, plainLines) = await run(node, plain, ["y"])
            #expect(plainOutcome == .exited(0))
            #expect(plainLines == ["agent: plain is not executable; running it with /bin/sh", "stdout: plain y"])
        }
    }

    @Test("a script that cannot start is reported as such")
    func failedToStart() async throws {
        try await TemporaryNode.with { node in
            let script = try node.script("bad", "#!/nonexistent/interpreter\necho never\n")
            let (outcome, _) = await run(node, script)
            guard case .failedToStart = outcome else {
                Issue.record("expected failedToStart, got \(outcome)")
                return
            }
            #expect(outcome.exitCode == 127)
        }
    }

    @Test("at its timeout, the script's whole process group is killed, children and stubborn grandchildren included")
    func timeoutKillsGroup() async throws {
        try await TemporaryNode.with { node in
            let script = try node.script(
                "hang",
                """
                #!/bin/sh
                sleep 1000 &
                echo "child $!"
                sh -c 'trap "" TERM; echo "stubborn $$"; while :; do sleep 1; done' &
                sleep 1000 &
                echo "child $!"
                echo "leader $$"
                wait
                """
            )
            let (outcome, lines) = await run(node, script, timeout: .milliseconds(500), grace: .milliseconds(300))
            #expect(outcome == .timedOut(after: .milliseconds(500)))
            #expect(outcome.summary == "timed out after 0.5 s")
            let pids = lines.compactMap { line in line.split(separator: " ").last.flatMap { pid_t($0) } }
            let leader = try #require(lines.first { $0.hasPrefix("stdout: leader") }.flatMap { $0.split(separator: " ").last }.flatMap { pid_t($0) })
            #expect(pids.count == 4)
            #expect(ProcessGroup(id: leader).isEmpty)
            for pid in pids { #expect(!ProcessGroup.isAlive(pid), "process \(pid) survived") }
        }
    }

    @Test("a service a script leaves running in the background survives it and does not hold the run")
    func backgroundServiceSurvives() async throws {
        try await TemporaryNode.with { node in
            let script = try node.script("service", "#!/bin/sh\nsleep 1000 &\necho \"service $!\"\nexit 0\n")
            let (outcome, lines) = await run(node, script, timeout: .seconds(30))
            #expect(outcome == .exited(0))
            let pid = try #require(lines.first.flatMap { $0.split(separator: " ").last }.flatMap { pid_t($0) })
            #expect(ProcessGroup.isAlive(pid))
            kill(pid, SIGKILL)
        }
    }

    @Test("a script killed by a signal reports 128 + the signal")
    func signaled() async throws {
        try await TemporaryNode.with { node in
            let script = try node.script("selfkill", "#!/bin/sh\nkill -KILL $$\n")
            let (outcome, _) = await run(node, script)
            #expect(outcome == .signaled(SIGKILL))
            #expect(outcome.exitCode == 137)
        }
    }

    @Test("cancelling the run ends the script's process group")
    func cancellation() async throws {
        try await TemporaryNode.with { node in
            let script = try node.script("wait", "#!/bin/sh\nsleep 1000 &\necho \"child $!\"\nwait\n")
            let (pids, continuation) = AsyncStream.makeStream(of: pid_t.self)
            let task = Task {
                let invocation = ScriptInvocation(script: script, workingDirectory: node.scripts, timeout: .seconds(60))
                return await ScriptRunner(grace: .milliseconds(300)).run(invocation) { line in
                    if let pid = line.text.split(separator: " ").last.flatMap({ pid_t($0) }) { continuation.yield(pid) }
                }
            }
            var iterator = pids.makeAsyncIterator()
            let child = try #require(await iterator.next())
            task.cancel()
            #expect(await task.value == .cancelled)
            #expect(!ProcessGroup.isAlive(child))
        }
    }

    @Test("a script file held open for writing is tried again, and runs once it is closed")
    func busyFileRetried() async throws {
        try await TemporaryNode.with { node in
            let script = try node.script("busy", "#!/bin/sh\necho ran\n")
            // A writer still holding the file (as a child forked by another thread does until it execs): exec fails
            // with ETXTBSY until the descriptor is closed. Close-on-exec, so that no process another test starts
            // meanwhile keeps a copy.
            let writer = try #require(WriteDescriptor(script))
            let closed = Mutex(false)
            var lines: [String] = []
            let invocation = ScriptInvocation(script: script, workingDirectory: node.scripts, timeout: .seconds(30))
            let outcome = await ScriptRunner(busyRetryLimit: .seconds(60)).run(invocation) { line in
                lines.append("\(line.stream.rawValue): \(line.text)")
                if line.stream == .agent, line.text.contains("busy") {
                    closed.withLock {
                        if !$0 {
                            writer.close()
                            $0 = true
                        }
                    }
                }
            }
            #expect(outcome == .exited(0))
            #expect(lines == ["agent: \(script.path) is busy (open for writing elsewhere); trying again", "stdout: ran"])
        }
    }

    @Test("a script file that stays open for writing fails to start after the retry limit, saying why")
    func busyFileGivesUp() async throws {
        try await TemporaryNode.with { node in
            let script = try node.script("busy", "#!/bin/sh\necho ran\n")
            let writer = try #require(WriteDescriptor(script))
            defer { writer.close() }
            let (outcome, _) = await run(node, script, busyRetryLimit: .milliseconds(200))
            guard case .failedToStart(let reason) = outcome else {
                Issue.record("expected a failed start, got \(outcome)")
                return
            }
            #expect(reason.localizedCaseInsensitiveContains("busy"))
        }
    }
}
