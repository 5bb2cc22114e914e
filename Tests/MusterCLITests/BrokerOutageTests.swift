import Foundation
import Testing

/// A broker that goes away mid-boot does not stall the boot: the agents keep running their scripts, queue what
/// they must tell, and deliver it in order, once, when the broker is back.
@Suite("A broker outage mid-boot")
struct BrokerOutageTests {
    static let nodes = 40
    static let outage: Duration = .seconds(30)

    /// A 40-node cluster whose `2-thishost` script holds until the test says go (so that the broker surely dies while
    /// every node is in a script), then prints five steps a second apart, and whose `5-thishost-finalize` script
    /// starts only after that: with the broker away for 30 s, both must run during the outage. Each script counts
    /// its runs and notes when it ran, under the node's root.
    static func example(gate: String) throws -> String {
        try UpCommandTests.makeExample(
            """
            <cluster>
              <workspace><name>head</name><image>node</image><quantity>1</quantity><nic>public</nic>
                <ctx><provides><identity/><role>head</role></provides></ctx></workspace>
              <workspace><name>worker</name><image>node</image><quantity>\(nodes - 1)</quantity><nic>public</nic>
                <ctx><provides><identity/></provides><requires><role name="head"/></requires></ctx></workspace>
            </cluster>
            """,
            scripts: [
                "node/ctx-scripts/2-thishost/publicnic": """
                echo run >> "$MUSTER_ROOT/runs-thishost"
                echo holding
                touch "$MUSTER_ROOT/holding"
                i=0; while [ ! -f \(gate) ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i+1)); done
                for i in 1 2 3 4 5; do echo step $i; date +%s.%N >> "$MUSTER_ROOT/steps"; sleep 1; done
                """,
                "node/ctx-scripts/5-thishost-finalize/publicnic": """
                echo run >> "$MUSTER_ROOT/runs-finalize"
                date +%s.%N > "$MUSTER_ROOT/finalized"
                echo finalized
                """,
            ]
        )
    }

    /// Seconds since 1970, as the scripts' `date +%s.%N` writes them.
    static func now() -> Double { Date().timeIntervalSince1970 }

    static func times(_ path: String) -> [Double] {
        UpCommandTests.read(path).split(separator: "\n").compactMap { Double($0) }
    }

    @Test func `killed for 30 s mid-boot, the broker is told everything once it is back: scripts ran meanwhile, none twice, no line lost or doubled`()
        async throws
    {
        let gate = workFolder("outage-gate") + "/go"
        let example = try Self.example(gate: gate)
        let state = workFolder("outage-broker")
        let work = workFolder("outage")
        let port = try freePort()
        let broker = try BackgroundCommand(["broker", "--state", state, "--listen", "127.0.0.1:\(port)"])
        await broker.waitFor("listening on")
        let up = try BackgroundCommand([
            "up", example + "/cluster.xml", "--headless", "--state", work, "--broker", "http://127.0.0.1:\(port)", "--token-file",
            state + "/operator-token", "--timeout", "600",
        ])
        await up.waitFor("released, configuring")
        let context = try UpCommandTests.contextFolder(work)
        let contextID = (context as NSString).lastPathComponent
        let roots = (0..<Self.nodes).map { index in "\(context)/nodes/\(index == 0 ? "head-0" : "worker-\(index - 1)")" }
        let holding = await eventually(timeout: .seconds(300)) {
            roots.allSatisfy { FileManager.default.fileExists(atPath: "\($0)/holding") }
        }
        try #require(holding, "every node is in its 2-thishost script: \(up.text)")

        // The broker dies without a word while every node is in a script; the scripts are let go at once.
        #expect(await broker.stop(signal: SIGKILL) != 0)
        let down = Self.now()
        try "go".write(toFile: gate, atomically: true, encoding: .utf8)
        try await Task.sleep(for: Self.outage)
        let restarted = try BackgroundCommand(["broker", "--state", state, "--listen", "127.0.0.1:\(port)"])
        await restarted.waitFor("listening on")
        let back = Self.now()
        await up.waitFor("complete, all ok", timeout: .seconds(300))
        let complete = Self.now()
        #expect(await up.wait() == 0, "\(up.text)")

        // Scripts went on while the broker was away: each node ran its steps and its finalize script meanwhile.
        for root in roots {
            let steps = Self.times("\(root)/steps")
            #expect(steps.count == 5, "\(root): \(steps)")
            #expect(steps.allSatisfy { $0 > down && $0 < back }, "\(root) ran its steps during the outage: \(steps), outage \(down)–\(back)")
            let finalized = Self.times("\(root)/finalized")
            #expect(finalized.count == 1 && finalized[0] < back, "\(root) started its finalize script during the outage")
            #expect(UpCommandTests.read("\(root)/runs-thishost") == "run\n", "\(root): 2-thishost ran once")
            #expect(UpCommandTests.read("\(root)/runs-finalize") == "run\n", "\(root): 5-thishost-finalize ran once")
        }
        // The broker heard it all within seconds of its return (the agents and `muster up` retry at most 2 s apart).
        #expect(complete - back < 15, "complete \(complete - back) s after the broker's return")
        #expect(up.text.contains("reconnected"), "\(up.text)")

        // Every node's output arrived once and in order across the outage.
        let final = try await CommandRunner.muster(["status", contextID, "--check", "--state", state])
        #expect(final.status == 0, "\(final.stdout)")
        for root in roots {
            let node = (root as NSString).lastPathComponent
            let logs = try await CommandRunner.muster(["logs", node, "--context", contextID, "--state", state])
            let said = logs.stdout.split(separator: "\n").compactMap { line -> String? in
                guard let bar = line.range(of: " | ") else { return nil }
                let text = line[bar.upperBound...]
                return text.hasPrefix("step ") || text == "holding" || text == "finalized" ? String(text) : nil
            }
            #expect(said == ["holding"] + (1...5).map { "step \($0)" } + ["finalized"], "\(node): \(logs.stdout)")
        }
        await restarted.stop()
        #expect(processes(mentioning: work).isEmpty, "muster up stopped its agents")
    }
}
