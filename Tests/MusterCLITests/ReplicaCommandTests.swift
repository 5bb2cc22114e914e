import Foundation
import MusterSystem
import Testing

/// Brokers sharing a PostgreSQL database, as an operator meets them: `muster status` says which replica answered
/// and moves on to the other when one is lost.
@Suite("Broker replicas from the command line")
struct ReplicaCommandTests {
    @Test func `muster status says which replica answered, and moves to the other when one is lost`() async throws {
        try await ThrowawayPostgres.with { server in
            let store = server.urlText(database: try await server.createDatabaseNamed())
            let token = workFolder("replica-token") + "/token"
            try "mst_op_replica-\(UUID().uuidString)\n".write(toFile: token, atomically: true, encoding: .utf8)
            let ports = (try freePort(), try freePort())
            let a = try BackgroundCommand([
                "broker", "--store", store, "--name", "a", "--listen", "127.0.0.1:\(ports.0)", "--state", workFolder("replica-a"), "--token-file",
                token,
            ])
            let b = try BackgroundCommand([
                "broker", "--store", store, "--name", "b", "--listen", "127.0.0.1:\(ports.1)", "--state", workFolder("replica-b"), "--token-file",
                token,
            ])
            await a.waitFor("listening on")
            await b.waitFor("listening on")
            let urls = "http://127.0.0.1:\(ports.0),http://127.0.0.1:\(ports.1)"

            let first = try await CommandRunner.muster(["status", "--broker", urls, "--token-file", token])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("no contexts on this broker"))
            #expect(first.stdout.contains("answered by http://127.0.0.1:\(ports.0) (replica a, postgres)"), "\(first.stdout)")

            // Replica a's machine is lost: the same command goes on to b.
            _ = await a.stop(signal: SIGKILL)
            let second = try await CommandRunner.muster(["status", "--broker", urls, "--token-file", token])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stdout.contains("answered by http://127.0.0.1:\(ports.1) (replica b, postgres)"), "\(second.stdout)")
            _ = await b.stop()
        }
    }
}

extension ReplicaCommandTests {
    /// Real agents over two replicas: `muster up --broker A,B` hands each node both addresses (half of them A
    /// first); A is killed with -9 while every node is in a script. The boot completes through B, every script ran
    /// once, and every node's output is there once.
    @Test func `muster up over two replicas completes when one is killed mid-boot`() async throws {
        try await ThrowawayPostgres.with { server in
            let store = server.urlText(database: try await server.createDatabaseNamed())
            let state = workFolder("replica-up-state")
            let token = state + "/token"
            try "mst_op_replica-\(UUID().uuidString)\n".write(toFile: token, atomically: true, encoding: .utf8)
            let ports = (try freePort(), try freePort())
            let a = try BackgroundCommand([
                "broker", "--store", store, "--listen", "127.0.0.1:\(ports.0)", "--state", state + "/a", "--token-file", token,
            ])
            let b = try BackgroundCommand([
                "broker", "--store", store, "--listen", "127.0.0.1:\(ports.1)", "--state", state + "/b", "--token-file", token,
            ])
            await a.waitFor("listening on")
            await b.waitFor("listening on")
            let urls = "http://127.0.0.1:\(ports.0),http://127.0.0.1:\(ports.1)"
            let gate = workFolder("replica-up-gate") + "/go"
            let nodes = 6
            let example = try UpCommandTests.makeExample(
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
                    echo run >> "$MUSTER_ROOT/runs"
                    touch "$MUSTER_ROOT/holding"
                    i=0; while [ ! -f \(gate) ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i+1)); done
                    for i in 1 2 3; do echo step $i; done
                    """
                ]
            )
            let work = workFolder("replica-up")
            let up = try BackgroundCommand([
                "up", example + "/cluster.xml", "--headless", "--state", work, "--broker", urls, "--token-file", token, "--timeout", "600",
            ])
            await up.waitFor("released, configuring")
            let context = try UpCommandTests.contextFolder(work)
            let contextID = (context as NSString).lastPathComponent
            let roots = (0..<nodes).map { index in "\(context)/nodes/\(index == 0 ? "head-0" : "worker-\(index - 1)")" }
            let holding = await eventually(timeout: .seconds(300)) {
                roots.allSatisfy { FileManager.default.fileExists(atPath: "\($0)/holding") }
            }
            try #require(holding, "every node is in its script: \(up.text)")

            // Replica A is lost while every node runs a script; the scripts go on.
            #expect(await a.stop(signal: SIGKILL) != 0)
            try "go".write(toFile: gate, atomically: true, encoding: .utf8)
            await up.waitFor("complete, all ok", timeout: .seconds(300))
            #expect(await up.wait() == 0, "\(up.text)")

            for root in roots {
                #expect(UpCommandTests.read("\(root)/runs") == "run\n", "\(root): the script ran once")
                let node = (root as NSString).lastPathComponent
                let logs = try await CommandRunner.muster([
                    "logs", node, "--context", contextID, "--broker", "http://127.0.0.1:\(ports.1)", "--token-file", token,
                ])
                let steps = logs.stdout.split(separator: "\n").filter {
                    $0.hasSuffix(" | step 1") || $0.hasSuffix(" | step 2") || $0.hasSuffix(" | step 3")
                }
                #expect(steps.count == 3, "\(node): each line once: \(logs.stdout)")
            }
            _ = await b.stop()
        }
    }
}
