import Foundation
import MusterSystem
import Testing

/// What scripts rely on: each kind of failure has its own exit status and one line on standard error that says
/// what and where — never a backtrace, a raw library error or the usage text.
@Suite("Exit statuses and error messages")
struct ExitStatusTests {
    /// A standalone broker on a free port with its own state folder.
    static func broker() async throws -> (BackgroundCommand, String) {
        let state = workFolder("broker")
        let broker = try BackgroundCommand(["broker", "--state", state, "--listen", "127.0.0.1:0"])
        // The broker's own line comes after broker.json is written (the HTTP server logs "listening on" before).
        await broker.waitFor("muster broker listening on")
        return (broker, state)
    }

    /// The URL a broker wrote to its state folder's broker.json.
    static func brokerURL(_ state: String) throws -> String {
        struct File: Decodable { var url: String }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: state + "/broker.json"))).url
    }

    /// Creates a context of one node `a-0` on the broker of `state` (with `muster ec2script`, which launches nothing).
    static func createOneNodeContext(state: String) async throws -> CommandRunner.Result {
        let example = try UpCommandTests.makeExample(
            "<cluster><workspace><name>a</name><image>i</image><quantity>1</quantity><nic>public</nic><ctx><provides><identity/></provides></ctx></workspace></cluster>",
            scripts: ["i/ctx-scripts/2-thishost/publicnic": "echo hi"]
        )
        let created = try await CommandRunner.muster(["ec2script", example + "/cluster.xml", "--output", workFolder("ec2"), "--state", state])
        #expect(created.status == 0, "\(created.stderr)")
        return created
    }

    static func expectOneLine(_ result: CommandRunner.Result, mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(fragment), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("USAGE"), "\(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test func `status --check is 66 without contexts, 2 while running, 1 after a kill, 0 when all ok`() async throws {
        let (broker, state) = try await Self.broker()
        let none = try await CommandRunner.muster(["status", "--check", "--state", state])
        #expect(none.status == 66)
        Self.expectOneLine(none, mentioning: "the broker has no context")

        let gate = workFolder("gate") + "/go"
        let example = try UpCommandTests.makeExample(
            """
            <cluster>
              <workspace><name>a</name><image>gated</image><quantity>2</quantity><nic>public</nic>
                <ctx><provides><identity/></provides></ctx></workspace>
            </cluster>
            """,
            scripts: ["gated/ctx-scripts/2-thishost/publicnic": "i=0; while [ ! -f \(gate) ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"]
        )
        let url = try Self.brokerURL(state)
        let up = try BackgroundCommand([
            "up", example + "/cluster.xml", "--headless", "--keep", "--state", workFolder("nodes"), "--broker", url, "--token-file",
            state + "/operator-token",
        ])
        await up.waitFor("released, configuring")
        let running = try await CommandRunner.muster(["status", "--check", "--state", state])
        #expect(running.status == 2, "\(running.stdout)")
        let kill = try await CommandRunner.muster(["kill", "a-1", "--state", state])
        #expect(kill.status == 0, "\(kill.stderr)")
        try "go".write(toFile: gate, atomically: true, encoding: .utf8)
        await up.waitFor("1/2 ok in")
        let killed = try await CommandRunner.muster(["status", "--check", "--state", state])
        #expect(killed.status == 1, "a killed node is not a success: \(killed.stdout)")
        let retry = try await CommandRunner.muster(["retry", "a-1", "--state", state])
        #expect(retry.status == 0, "\(retry.stderr)")
        await up.waitFor("complete, all ok")
        let ok = try await CommandRunner.muster(["status", "--check", "--state", state])
        #expect(ok.status == 0, "\(ok.stdout)")
        await up.stop()
        await broker.stop()
    }

    @Test func `an unreachable broker, a refused token, a conflict and an unknown node have statuses of their own`() async throws {
        let (broker, state) = try await Self.broker()
        _ = try await Self.createOneNodeContext(state: state)

        let unreachable = try await CommandRunner.muster(["status", "--broker", "http://127.0.0.1:1", "--state", state])
        #expect(unreachable.status == 69)
        Self.expectOneLine(unreachable, mentioning: "cannot reach the broker at http://127.0.0.1:1")

        let wrong = try CommandRunner.temporaryFile(named: "token", "mst_op_wrong\n")
        let refused = try await CommandRunner.muster(["status", "--token-file", wrong, "--state", state])
        #expect(refused.status == 77)
        Self.expectOneLine(refused, mentioning: "refused the operator token")

        let conflict = try await CommandRunner.muster(["retry", "a-0", "--state", state])
        #expect(conflict.status == 75, "a pending node cannot be retried: \(conflict.stderr)")
        Self.expectOneLine(conflict, mentioning: "node 'a-0' is pending")

        let unknown = try await CommandRunner.muster(["kill", "nosuch-0", "--state", state])
        #expect(unknown.status == 66)
        Self.expectOneLine(unknown, mentioning: "has no node 'nosuch-0'")
        #expect(!unknown.stderr.contains("POST /v1"), "the message names the node, not the request")

        let unreadable = try await CommandRunner.muster(["status", "--token-file", "/nonexistent/token", "--state", state])
        #expect(unreadable.status == 66)
        Self.expectOneLine(unreadable, mentioning: "cannot read the token file /nonexistent/token")
        await broker.stop()
    }

    @Test func `a broker that cannot start says why in one line: state folder in use, port taken, TLS file missing`() async throws {
        let (first, state) = try await Self.broker()
        let second = try await CommandRunner.muster(["broker", "--state", state, "--listen", "127.0.0.1:0"])
        #expect(second.status == 75)
        Self.expectOneLine(second, mentioning: "another broker uses the state folder")
        #expect(FileManager.default.fileExists(atPath: state + "/broker.json"), "the refused broker left the running one's broker.json alone")

        let port = try #require(URL(string: try Self.brokerURL(state))?.port)
        let taken = try await CommandRunner.muster(["broker", "--state", workFolder("other"), "--listen", "127.0.0.1:\(port)"])
        #expect(taken.status == 69)
        #expect(taken.stderr.contains("cannot listen on 127.0.0.1:\(port): the address is in use"), "\(taken.stderr)")
        #expect(!taken.stdout.contains("mst_op_"), "no token is shown by a broker that never served")

        let tls = try await CommandRunner.muster([
            "broker", "--state", workFolder("tls"), "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key",
        ])
        #expect(tls.status == 78)
        Self.expectOneLine(tls, mentioning: "cannot read the TLS certificate /nonexistent.pem")
        await first.stop()
        #expect(!FileManager.default.fileExists(atPath: state + "/broker.json"), "a stopped broker removes its own broker.json")
    }

    @Test func `a bad log level is a usage error`() async throws {
        let result = try await CommandRunner.muster(["broker", "--log-level", "loud"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("log-level"))
    }

    @Test func `a missing image folder stops muster up before anything starts, and muster plan reports it`() async throws {
        let example = try UpCommandTests.makeExample(
            "<cluster><workspace><name>a</name><image>nowhere.gz</image><quantity>1</quantity><nic>public</nic><ctx><provides><identity/></provides></ctx></workspace></cluster>",
            scripts: [:]
        )
        let state = workFolder("preflight") + "/state"
        let up = try await CommandRunner.muster(["up", example + "/cluster.xml", "--headless", "--state", state])
        #expect(up.status == 66, "\(up.stdout)\(up.stderr)")
        #expect(up.stderr.contains("no image folder for 'nowhere.gz'") && up.stderr.contains(example + "/images/nowhere"), "\(up.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state), "nothing was started, not even the state folder")
        let plan = try await CommandRunner.muster(["plan", example + "/cluster.xml"])
        #expect(plan.status == 66)
        #expect(plan.stdout.contains("a-0"), "the plan is still shown")
        #expect(plan.stderr.contains(example + "/images/nowhere.gz"), "\(plan.stderr)")
    }

    @Test func `the agent refuses a userdata file that does not exist`() async throws {
        let process = Process()
        process.executableURL = CommandRunner.productsFolder.appendingPathComponent("muster-agent")
        process.arguments = ["--userdata", "/nonexistent/userdata.json"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: try errors.fileHandleForReading.readUntilClosed(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(text.contains("no userdata file at /nonexistent/userdata.json"), "\(text)")
    }

    @Test func `muster delete forgets a context, and deleting it again is 66`() async throws {
        let (broker, state) = try await Self.broker()
        let created = try await Self.createOneNodeContext(state: state)
        let id = try #require(created.stdout.split(separator: " ").dropFirst().first.map(String.init), "\(created.stdout)")

        let deleted = try await CommandRunner.muster(["delete", id, "--json", "--state", state])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        struct Summary: Decodable { var id: String }
        #expect(try JSONDecoder().decode(Summary.self, from: Data(deleted.stdout.utf8)).id == id)

        let again = try await CommandRunner.muster(["delete", id, "--state", state])
        #expect(again.status == 66, "\(again.stderr)")
        Self.expectOneLine(again, mentioning: id)
        let status = try await CommandRunner.muster(["status", "--check", "--state", state])
        #expect(status.status == 66, "no contexts left: \(status.stdout) \(status.stderr)")
        await broker.stop()
    }

    @Test func `muster remove takes a pending slot away, and refuses a workspace's last node with 75`() async throws {
        let (broker, state) = try await Self.broker()
        let example = try UpCommandTests.makeExample(
            "<cluster><workspace><name>a</name><image>i</image><quantity>2</quantity><nic>public</nic><ctx><provides><identity/></provides></ctx></workspace></cluster>",
            scripts: ["i/ctx-scripts/2-thishost/publicnic": "echo hi"]
        )
        let created = try await CommandRunner.muster(["ec2script", example + "/cluster.xml", "--output", workFolder("ec2"), "--state", state])
        #expect(created.status == 0, "\(created.stderr)")

        let removed = try await CommandRunner.muster(["remove", "a-1", "--state", state])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(removed.stdout.hasSuffix("/a-1: removed\n"), "\(removed.stdout)")
        let last = try await CommandRunner.muster(["remove", "a-0", "--state", state])
        #expect(last.status == 75)
        Self.expectOneLine(last, mentioning: "workspace 'a' would have no node left")
        let again = try await CommandRunner.muster(["remove", "a-1", "--state", state])
        #expect(again.status == 66)
        Self.expectOneLine(again, mentioning: "has no node 'a-1'")
        await broker.stop()
    }

    @Test func `the manual pages cover every command`() throws {
        let folder = CommandRunner.repository.appendingPathComponent("Documentation/man")
        let main = try String(contentsOf: folder.appendingPathComponent("muster.1"), encoding: .utf8)
        for command in [
            "up", "console", "validate", "plan", "broker", "status", "events", "logs", "kill", "retry", "remove", "terminate", "delete", "ec2script",
            "bench",
        ] {
            #expect(main.contains(command), "muster.1 does not mention \(command)")
            #expect(
                FileManager.default.fileExists(atPath: folder.appendingPathComponent("muster.\(command).1").path),
                "no page for muster \(command)"
            )
        }
    }
}
