import Foundation
import Testing

/// `muster up` end to end: real agent processes running real scripts on the local launcher.
@Suite("muster up, end to end")
struct UpCommandTests {
    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// The one context folder under a work folder.
    static func contextFolder(_ work: String) throws -> String {
        let entries = try FileManager.default.contentsOfDirectory(atPath: work).filter {
            FileManager.default.fileExists(atPath: "\(work)/\($0)/nodes")
        }
        try #require(entries.count == 1, "context folders: \(entries)")
        return "\(work)/\(entries[0])"
    }

    /// Copies an example into a temporary folder, so a test can change its scripts.
    static func copyExample(_ name: String) throws -> String {
        let target = workFolder("example-\(name)") + "/\(name)"
        try FileManager.default.copyItem(atPath: CommandRunner.repository.appendingPathComponent("Examples/\(name)").path, toPath: target)
        return target
    }

    /// Writes an example of its own: a cluster file and image scripts.
    static func makeExample(_ cluster: String, scripts: [String: String]) throws -> String {
        let folder = workFolder("custom")
        try cluster.write(toFile: folder + "/cluster.xml", atomically: true, encoding: .utf8)
        for (path, body) in scripts {
            let file = folder + "/images/" + path
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try ("#!/bin/sh\n" + body + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file)
        }
        return folder
    }

    static func listing(_ folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).sorted()
    }

    @Test func `the CPE example boots: every node ok, dependents know the head, twice in a row without leftovers`() async throws {
        let work = workFolder("cpe")
        let examples = CommandRunner.repository.appendingPathComponent("Examples/cpe").path
        let before = Self.listing(examples)
        for run in 1...2 {
            let result = try await CommandRunner.muster(["up", "Examples/cpe/cluster.xml", "--headless", "--work", work])
            #expect(result.status == 0, "run \(run): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("complete, all ok, 4/4 ok"))
            #expect(processes(mentioning: work).isEmpty, "run \(run) left processes behind")
        }
        #expect(Self.listing(examples) == before, "nothing is written next to the cluster file")
        let claims = FileManager.default.temporaryDirectory.appendingPathComponent("muster-loopback-claims").path
        let context = try FileManager.default.contentsOfDirectory(atPath: work).filter { $0.hasPrefix("cpe-") }.sorted().last!
        let root = "\(work)/\(context)/nodes"
        let headKey = Self.read("\(root)/rabbitmq-head-0/etc/ssh/ssh_host_ed25519_key.pub").split(separator: " ").prefix(2).joined(separator: " ")
        let headHosts = Self.read("\(root)/rabbitmq-head-0/etc/hosts")
        let headIP = try #require(
            headHosts.split(separator: "\n").first { $0.contains("rabbitmq-head-0.") }?.split(separator: " ").first.map(String.init)
        )
        for dependent in ["provisioner-0", "scheduler-0", "aggregator-0"] {
            let hosts = Self.read("\(root)/\(dependent)/etc/hosts")
            #expect(hosts.contains("\(headIP) rabbitmq-head-0.\(context).muster.local rabbitmq-head-0"), "\(dependent): \(hosts)")
            let known = Self.read("\(root)/\(dependent)/etc/ssh/ssh_known_hosts")
            #expect(known.contains("rabbitmq-head-0.\(context).muster.local,\(headIP) \(headKey)"), "\(dependent): \(known)")
            #expect(known.contains("rabbitmq-head-0,\(headIP) \(headKey)"))
            #expect(Self.read("\(root)/\(dependent)/etc/rabbitmq-head") == "\(headIP) rabbitmq-head-0\n", "the dependent reached the head's service")
        }
        // The data value reached the one node that requires it, byte for byte, and no other.
        #expect(Self.read("\(root)/scheduler-0/etc/amqp-credentials") == "username=guest\npassword=muster-demo-secret\n")
        #expect(!FileManager.default.fileExists(atPath: "\(root)/provisioner-0/etc/amqp-credentials"))
        // Reports as cloud-client wrote them, and a known_hosts of the wantlogin nodes.
        let reports = "\(work)/\(context)/reports"
        #expect(
            Set(Self.listing(reports)) == [
                "CTX-OK.txt", "OK-rabbitmq-head-0.txt", "OK-provisioner-0.txt", "OK-scheduler-0.txt", "OK-aggregator-0.txt",
            ]
        )
        #expect(Self.read("\(work)/\(context)/known_hosts").split(separator: "\n").count == 4)
        #expect(!(Self.listing(claims).contains { _ in false }))
    }

    @Test func `a dependent's 1-ipandhost script gets the head's IP, short name and FQDN`() async throws {
        let work = workFolder("cpe-keep")
        let up = try BackgroundCommand(["up", "Examples/cpe/cluster.xml", "--headless", "--keep", "--work", work])
        await up.waitFor("--keep:")
        let logs = try await CommandRunner.muster(["logs", "provisioner-0", "--state", work])
        #expect(logs.status == 0, "\(logs.stderr)")
        let context = try Self.contextFolder(work)
        let contextID = (context as NSString).lastPathComponent
        let headIP = Self.read("\(context)/nodes/provisioner-0/etc/rabbitmq-head").split(separator: " ").first.map(String.init) ?? "?"
        #expect(logs.stdout.contains("1 1-ipandhost/rabbitmq-head | RabbitMQ-head IP: \(headIP)"), "\(logs.stdout)")
        #expect(logs.stdout.contains("| RabbitMQ-head Short hostname: rabbitmq-head-0"))
        #expect(logs.stdout.contains("| RabbitMQ-head Hostname: rabbitmq-head-0.\(contextID).muster.local"))
        #expect(logs.stdout.contains("| joined: rabbitmq-head rabbitmq-head-0 ready"))
        // Status works from the same folder without flags but --state.
        let status = try await CommandRunner.muster(["status", contextID, "--check", "--state", work])
        #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
        await up.stop()
        #expect(processes(mentioning: work).isEmpty)
    }

    @Test func `the Torque example's mutual requirements complete`() async throws {
        let work = workFolder("torque")
        let result = try await CommandRunner.muster(["up", "Examples/torque/cluster.xml", "--headless", "--work", work])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let context = try Self.contextFolder(work)
        let contextID = (context as NSString).lastPathComponent
        let nodes = Self.read("\(context)/nodes/head-node-0/var/spool/torque/server_priv/nodes")
        #expect(nodes.split(separator: "\n").sorted() == (0..<3).map { "compute-nodes-\($0).\(contextID).muster.local np=1" })
        for slave in 0..<3 {
            #expect(Self.read("\(context)/nodes/compute-nodes-\(slave)/var/spool/torque/server_name") == "head-node-0.\(contextID).muster.local\n")
        }
    }

    @Test func `a failing script ends its node with code 4; after the fix, retry brings it to ok`() async throws {
        let example = try Self.copyExample("failing")
        let work = workFolder("failing")
        let up = try BackgroundCommand(["up", example + "/cluster.xml", "--headless", "--keep", "--work", work])
        await up.waitFor("--keep:")
        #expect(up.text.contains("app-0  failed (exit 4): 2-thishost/publicnic"))
        #expect(up.text.contains("complete, with errors"))
        let contextID = (try Self.contextFolder(work) as NSString).lastPathComponent
        let check = try await CommandRunner.muster(["status", contextID, "--check", "--state", work])
        #expect(check.status == 1, "errorPresent")
        #expect(FileManager.default.fileExists(atPath: "\(work)/\(contextID)/reports/ERROR-4-app-0.txt"))
        #expect(Self.read("\(work)/\(contextID)/reports/ERROR-4-app-0.txt").contains("! error: /etc/app/config.yaml is missing"))

        // Fix the script in the image, then retry: the new agent gets the fixed script.
        let script = example + "/images/app/ctx-scripts/2-thishost/publicnic"
        try Self.read(script).replacingOccurrences(of: "FIXED=no", with: "FIXED=yes").write(toFile: script, atomically: true, encoding: .utf8)
        let events = try BackgroundCommand(["events", "--follow", "--context", contextID, "--state", work])
        let retry = try await CommandRunner.muster(["retry", "app-0", "--state", work])
        #expect(retry.status == 0, "\(retry.stdout)\(retry.stderr)")
        await events.waitFor("app-0 configuring → ok")
        await events.stop()
        let ok = try await CommandRunner.muster(["status", contextID, "--check", "--state", work])
        #expect(ok.status == 0, "\(ok.stdout)")
        await up.stop()
        #expect(processes(mentioning: work).isEmpty)
    }

    @Test(arguments: ["auto", "namespaces"])
    func `kill ends a node's agent and the service its scripts started`(isolation: String) async throws {
        let work = workFolder("kill")
        let up = try BackgroundCommand(["up", "Examples/cpe/cluster.xml", "--headless", "--keep", "--work", work, "--isolation", isolation])
        await up.waitFor("--keep:")
        let context = try Self.contextFolder(work)
        // The script wrote the service's id as its own PID namespace numbers it (a node in namespaces sees its own).
        let written = try #require(
            pid_t(Self.read("\(context)/nodes/rabbitmq-head-0/var/lib/rabbitmq/service.pid").trimmingCharacters(in: .whitespacesAndNewlines))
        )
        let servicePID = try #require(hostPID(of: written, workingUnder: "\(context)/nodes/rabbitmq-head-0"), "the service runs")
        #expect(kill(servicePID, 0) == 0, "the head's service runs")
        #expect(!processes(mentioning: "\(context)/nodes/rabbitmq-head-0/").isEmpty)
        let killed = try await CommandRunner.muster(["kill", "rabbitmq-head-0", "--state", work])
        #expect(killed.status == 0, "\(killed.stderr)")
        // The kill is committed when the command returns; the launcher then ends the node's processes.
        let gone = await eventually(timeout: .seconds(60)) {
            processes(mentioning: "\(context)/nodes/rabbitmq-head-0/").isEmpty && !isAlive(servicePID)
        }
        let left = processes(mentioning: "\(context)/nodes/rabbitmq-head-0/").map { pid in
            "\(pid): "
                + String(decoding: (FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()).map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        }
        #expect(
            gone,
            "the head's agent and the service its script started are gone; left: \(left), service alive: \(isAlive(servicePID))\n\(up.text)"
        )
        let status = try await CommandRunner.muster(["status", (context as NSString).lastPathComponent, "--json", "--state", work])
        #expect(status.stdout.contains("\"state\":\"killed\"") || status.stdout.contains("\"state\" : \"killed\""))
        // The others run on.
        #expect(!processes(mentioning: "\(context)/nodes/scheduler-0/").isEmpty)
        await up.stop()
        #expect(processes(mentioning: work).isEmpty)
    }

    @Test func `a script that hangs is killed at its timeout, children included`() async throws {
        let marker = "1000.\(Int.random(in: 100_000...999_999))"
        let example = try Self.makeExample(
            """
            <cluster><workspace><name>stuck</name><image>img</image><quantity>1</quantity><nic>public</nic>
            <ctx><provides><identity/></provides></ctx></workspace></cluster>
            """,
            scripts: ["img/ctx-scripts/2-thishost/publicnic": "echo starting\nsleep \(marker) &\nsleep \(marker)"]
        )
        let work = workFolder("timeout")
        let result = try await CommandRunner.muster(["up", example + "/cluster.xml", "--headless", "--work", work, "--script-timeout", "2"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("stuck-0  failed (exit 4): 2-thishost/publicnic"), "\(result.stdout)")
        #expect(result.stdout.contains("timed out"), "\(result.stdout)")
        #expect(processes(mentioning: "sleep \(marker)").isEmpty, "the script's children were killed")
        #expect(processes(mentioning: work).isEmpty)
    }

    @Test func `a broker killed with -9 mid-boot and started again on the same state still ends all ok`() async throws {
        // The scripts hold until the test says go, so the broker surely dies mid-boot however slow the machine.
        let gate = workFolder("gate") + "/go"
        let example = try Self.makeExample(
            """
            <cluster>
              <workspace><name>head</name><image>slow</image><quantity>1</quantity><nic>public</nic>
                <ctx><provides><identity/><role>head</role></provides></ctx></workspace>
              <workspace><name>worker</name><image>slow</image><quantity>3</quantity><nic>public</nic>
                <ctx><provides><identity/></provides><requires><role name="head"/></requires></ctx></workspace>
            </cluster>
            """,
            scripts: [
                "slow/ctx-scripts/2-thishost/publicnic": """
                echo waiting for the test
                i=0; while [ ! -f \(gate) ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i+1)); done
                for i in 1 2 3 4 5 6 7 8 9 10; do echo step $i; done
                """,
                "slow/ctx-scripts/1-ipandhost/head": "echo head is $1",
            ]
        )
        let state = workFolder("restart-broker")
        let work = workFolder("restart")
        let port = try freePort()
        let broker = try BackgroundCommand(["broker", "--state", state, "--listen", "127.0.0.1:\(port)"])
        await broker.waitFor("listening on")
        let up = try BackgroundCommand([
            "up", example + "/cluster.xml", "--headless", "--state", work, "--broker", "http://127.0.0.1:\(port)", "--token-file",
            state + "/operator-token",
        ])
        await up.waitFor("released, configuring")
        // The broker dies without a word; the agents (this `muster up`'s) run on, holding in their scripts.
        let status = await broker.stop(signal: SIGKILL)
        #expect(status != 0, "\(broker.text)")
        #expect(!processes(mentioning: "--userdata \(work)").isEmpty, "the agents outlive the broker")
        let restarted = try BackgroundCommand(["broker", "--state", state, "--listen", "127.0.0.1:\(port)"])
        await restarted.waitFor("listening on")
        try "go".write(toFile: gate, atomically: true, encoding: .utf8)
        await up.waitFor("complete, all ok", timeout: .seconds(300))
        #expect(await up.wait() == 0, "\(up.text)")
        let contextID = (try Self.contextFolder(work) as NSString).lastPathComponent
        let final = try await CommandRunner.muster(["status", contextID, "--check", "--state", state])
        #expect(final.status == 0, "\(final.stdout)")
        // Every node's output arrived once, in order, across the restart.
        let logs = try await CommandRunner.muster(["logs", "worker-1", "--context", contextID, "--state", state])
        let steps = logs.stdout.split(separator: "\n").filter { $0.contains("| step ") }.map { String($0.split(separator: " ").last!) }
        #expect(steps == (1...10).map(String.init), "\(logs.stdout)")
        await restarted.stop()
        #expect(processes(mentioning: work).isEmpty, "muster up stopped its agents")
    }

    @Test func `muster up --broker against another muster up's broker is refused before anything is created`() async throws {
        let first = workFolder("first-up")
        let keep = try BackgroundCommand(["up", "Examples/cpe/cluster.xml", "--headless", "--keep", "--state", first])
        await keep.waitFor("--keep:")
        let file = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: first + "/broker.json"))) as? [String: Any]
        let url = try #require(file?["url"] as? String)
        let health = try await CommandRunner.shell("curl -s \(url)/v1/healthz", in: URL(fileURLWithPath: first))
        #expect(health.stdout.contains("\"launchesNodes\":true"), "\(health.stdout)")
        let second = try await CommandRunner.muster([
            "up", "Examples/failing/cluster.xml", "--headless", "--state", workFolder("second-up"), "--broker", url, "--token-file",
            first + "/operator-token",
        ])
        #expect(second.status == 75, "\(second.stdout)\(second.stderr)")
        #expect(second.stderr.contains("starts its nodes itself"), "\(second.stderr)")
        let contexts = try await CommandRunner.muster(["status", "--state", first, "--json"])
        #expect(!contexts.stdout.contains("failing"), "nothing was created: \(contexts.stdout)")
        await keep.stop()
    }

    @Test func `muster up killed with -9 leaves no process behind: its agents stop their nodes`() async throws {
        let marker = "muster-orphan-\(UUID().uuidString.prefix(8))"
        let example = try Self.makeExample(
            """
            <cluster>
              <workspace><name>svc</name><image>svc</image><quantity>2</quantity><nic>public</nic>
                <ctx><provides><identity/></provides></ctx></workspace>
            </cluster>
            """,
            scripts: ["svc/ctx-scripts/2-thishost/publicnic": "nohup sh -c 'sleep 300; true' \(marker) >/dev/null 2>&1 &\necho service started"]
        )
        let work = workFolder("orphans")
        let up = try BackgroundCommand(["up", example + "/cluster.xml", "--headless", "--keep", "--state", work])
        await up.waitFor("--keep:")
        #expect(processes(mentioning: marker).count == 2, "each node left a service running")
        _ = await up.stop(signal: SIGKILL)
        let gone = await eventually(timeout: .seconds(30)) {
            processes(mentioning: work).isEmpty && processes(mentioning: marker).isEmpty
        }
        #expect(gone, "left behind: \(processes(mentioning: work)) \(processes(mentioning: marker))")
    }
}

/// Polls `condition` (every 50 ms) until it holds or `timeout` passes; whether it held.
func eventually(timeout: Duration, _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}

/// Whether a process exists and is not a zombie.
func isAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
    return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
}

/// The id, in this process's PID namespace, of the process that its own (innermost) namespace numbers `pid` and
/// whose working folder lies under `folder`.
func hostPID(of pid: pid_t, workingUnder folder: String) -> pid_t? {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
    for entry in entries {
        guard let candidate = pid_t(entry), let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") }),
            line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.flatMap({ pid_t($0) }) == pid,
            let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd"), cwd.hasPrefix(folder)
        else { continue }
        return candidate
    }
    return nil
}

/// A TCP port that was free a moment ago.
func freePort() throws -> Int {
    let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard bound else { throw CocoaError(.fileWriteUnknown) }
    return Int(UInt16(bigEndian: address.sin_port))
}
