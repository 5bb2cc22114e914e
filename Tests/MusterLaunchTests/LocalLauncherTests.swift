import Foundation
import Logging
import MusterCore
import MusterLaunch
import MusterSystem
import Testing

/// Records what a launcher reports, and lets a test await the next report.
actor RecordingReporter: LaunchReporter {
    enum Report: Equatable {
        case booted(String, Int)
        case failed(String, Int, String)
        case exited(String, Int, Int32, String)
    }

    private(set) var reports: [Report] = []
    private var waiters: [CheckedContinuation<Report, Never>] = []

    func booted(context: ContextID, node: String, generation: Int) { record(.booted(node, generation)) }

    func launchFailed(context: ContextID, node: String, generation: Int, message: String) { record(.failed(node, generation, message)) }

    func agentExited(context: ContextID, node: String, generation: Int, status: Int32, message: String) {
        record(.exited(node, generation, status, message))
    }

    private func record(_ report: Report) {
        if waiters.isEmpty {
            reports.append(report)
        } else {
            waiters.removeFirst().resume(returning: report)
        }
    }

    /// The next report (one already recorded, or the next to come).
    func next() async -> Report {
        if !reports.isEmpty { return reports.removeFirst() }
        return await withCheckedContinuation { waiters.append($0) }
    }
}

@Suite("Local launcher")
struct LocalLauncherTests {
    /// A work folder with an image folder holding one ctx-script, and a stand-in agent script.
    struct Fixture {
        let folder: String
        let work: String
        let images: String

        init() throws {
            folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-launch-\(UUID().uuidString)")
            work = (folder as NSString).appendingPathComponent("work")
            images = (folder as NSString).appendingPathComponent("images")
            let scripts = (images as NSString).appendingPathComponent("base/ctx-scripts/1-ipandhost")
            try FileManager.default.createDirectory(atPath: scripts, withIntermediateDirectories: true)
            try write((scripts as NSString).appendingPathComponent("head"), "#!/bin/sh\necho \"$1\"\n", executable: true)
        }

        /// A stand-in for muster-agent: a shell script (the launcher must not care what the agent is).
        func agent(_ body: String) throws -> String {
            let path = (folder as NSString).appendingPathComponent("agent-\(UUID().uuidString).sh")
            try write(path, "#!/bin/sh\n" + body + "\n", executable: true)
            return path
        }

        func write(_ path: String, _ text: String, executable: Bool = false) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
        }

        /// A launcher; the stand-in agents write outside their roots, so isolation is off unless a test asks for it.
        func launcher(agent: String, addresses: LoopbackAddresses, isolation: NodeIsolation = .notIsolated(reason: "test")) -> LocalLauncher {
            LocalLauncher(
                configuration: .init(
                    workFolder: work,
                    images: ImageFolders(searchPath: [images]),
                    agentExecutable: agent,
                    scriptTimeoutSeconds: 30,
                    isolation: isolation
                ),
                addresses: addresses,
                logger: Logger(label: "test")
            )
        }

        func request(node: String = "head-0", image: String = "base.gz", generation: Int = 0) -> LaunchRequest {
            LaunchRequest(
                context: "ctx-1",
                contextName: "test",
                node: node,
                workspace: "head",
                image: image,
                nics: [NICSpec(network: "public")],
                generation: generation,
                token: "mst_node_secret",
                brokerURL: "http://127.0.0.1:1"
            )
        }

        func claims() -> LoopbackAddresses {
            LoopbackAddresses(claimsFolder: (folder as NSString).appendingPathComponent("claims"))
        }
    }

    @Test func `an image name resolves with or without its extension`() throws {
        #expect(ImageFolders.candidateNames(for: "rabbitMQ.gz") == ["rabbitMQ.gz", "rabbitMQ"])
        #expect(ImageFolders.candidateNames(for: "base.tar.gz") == ["base.tar.gz", "base.tar", "base"])
        #expect(ImageFolders.candidateNames(for: "ami-dfa244b6") == ["ami-dfa244b6"])
        let fixture = try Fixture()
        let folders = ImageFolders(searchPath: [fixture.images])
        #expect(try folders.folder(for: "base.gz").get().hasSuffix("/images/base"))
        guard case .failure(let error) = folders.folder(for: "missing.gz") else {
            Issue.record("found a missing image")
            return
        }
        #expect(error.description.contains("images/missing.gz"))
        #expect(error.description.contains("images/missing"))
    }

    @Test(arguments: ["..", ".", "...", "....gz", "../images", "a/../..", "base/..", "-base", ".base", "", "base gz"])
    func `an image name that is not a safe name never resolves, least of all to the parent of images`(image: String) throws {
        let fixture = try Fixture()
        // images/ and its parent both exist, so a lookup that resolved '.' or '..' would succeed.
        let folders = ImageFolders(searchPath: [fixture.images])
        guard case .failure(let error) = folders.folder(for: image) else {
            Issue.record("image '\(image)' resolved to \((try? folders.folder(for: image).get()) ?? "?")")
            return
        }
        #expect(error.looked.isEmpty)
        #expect(error.description.contains("image name"))
        #expect(ImageFolders.candidateNames(for: image).allSatisfy { SafeName.isValid($0) })
    }

    @Test func `dots at the end of an image name never yield '.' or '..' as a candidate`() {
        #expect(ImageFolders.candidateNames(for: "base...") == ["base...", "base..", "base.", "base"])
        #expect(!ImageFolders.candidateNames(for: "a..gz").contains(".."))
    }

    @Test func `a node's host name is a valid host name even when its workspace name is not a label`() throws {
        #expect(LocalLauncher.hostname(context: "ctx-1a2b", node: "db_primary-0") == "db-primary-0.ctx-1a2b.muster.local")
        #expect(HostName.isValid(LocalLauncher.hostname(context: "ctx-1a2b", node: String(repeating: "w", count: 128) + "-0")))
    }

    @Test func `a launched node gets its root, scripts, address and userdata, and boots`() async throws {
        let fixture = try Fixture()
        let addresses = fixture.claims()
        let launcher = fixture.launcher(agent: try fixture.agent("exec sleep 1000"), addresses: addresses)
        let reporter = RecordingReporter()
        await launcher.launch(fixture.request(), reporter: reporter)
        #expect(await reporter.next() == .booted("head-0", 0))
        let root = launcher.root(context: "ctx-1", node: "head-0")
        #expect(root == fixture.work + "/ctx-1/nodes/head-0")
        let script = root + "/ctx-scripts/1-ipandhost/head"
        #expect(FileManager.default.isExecutableFile(atPath: script), "the script's mode is kept")
        let userdataPath = root + "/.muster/userdata.json"
        let permissions = try FileManager.default.attributesOfItem(atPath: userdataPath)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let userdata = try JSONDecoder().decode(AgentUserdata.self, from: Data(contentsOf: URL(fileURLWithPath: userdataPath)))
        #expect(userdata.node == "head-0" && userdata.token == "mst_node_secret" && userdata.root == root)
        #expect(userdata.nics.first?.hostname == "head-0.ctx-1.muster.local")
        #expect(userdata.nics.first?.ip?.hasPrefix("127.") == true)
        #expect(userdata.nics.first?.ip?.hasPrefix("127.0.") == false)
        #expect(userdata.scriptTimeoutSeconds == 30)
        #expect(await launcher.runningCount == 1)
        await launcher.stopAll()
        #expect(await launcher.runningCount == 0)
    }

    @Test func `a missing image folder fails the launch with where it looked`() async throws {
        let fixture = try Fixture()
        let launcher = fixture.launcher(agent: try fixture.agent("exit 0"), addresses: fixture.claims())
        let reporter = RecordingReporter()
        await launcher.launch(fixture.request(image: "nothing.gz"), reporter: reporter)
        guard case .failed(let node, 0, let message) = await reporter.next() else {
            Issue.record("expected a launch failure")
            return
        }
        #expect(node == "head-0")
        #expect(message.contains("no image folder for 'nothing.gz'"))
    }

    @Test func `an agent that cannot be started fails the launch`() async throws {
        let fixture = try Fixture()
        let launcher = fixture.launcher(agent: fixture.folder + "/no-such-agent", addresses: fixture.claims())
        let reporter = RecordingReporter()
        await launcher.launch(fixture.request(), reporter: reporter)
        guard case .failed(_, _, let message) = await reporter.next() else {
            Issue.record("expected a launch failure")
            return
        }
        #expect(message.contains("could not start"))
    }

    @Test func `an agent that exits on its own is reported with its status`() async throws {
        let fixture = try Fixture()
        let launcher = fixture.launcher(agent: try fixture.agent("echo dying; exit 3"), addresses: fixture.claims())
        let reporter = RecordingReporter()
        await launcher.launch(fixture.request(), reporter: reporter)
        #expect(await reporter.next() == .booted("head-0", 0))
        guard case .exited("head-0", 0, 3, let message) = await reporter.next() else {
            Issue.record("expected an exit report")
            return
        }
        #expect(message.contains("exited with status 3"))
        let log = try String(contentsOfFile: launcher.root(context: "ctx-1", node: "head-0") + "/agent.log", encoding: .utf8)
        #expect(log.contains("dying"))
    }

    @Test func `stopping a node ends every process it started, background children included`() async throws {
        let fixture = try Fixture()
        let pidFile = fixture.folder + "/pids"
        // The agent starts a child in its own process group (as scripts are) and a plain background child.
        let agent = try fixture.agent(
            """
            setsid sh -c 'sleep 1000' &
            echo $! >> \(pidFile)
            sleep 1000 &
            echo $! >> \(pidFile)
            echo $$ >> \(pidFile)
            wait
            """
        )
        let launcher = fixture.launcher(agent: agent, addresses: fixture.claims())
        let reporter = RecordingReporter()
        await launcher.launch(fixture.request(), reporter: reporter)
        #expect(await reporter.next() == .booted("head-0", 0))
        var pids: [pid_t] = []
        for _ in 0..<500 where pids.count < 3 {
            pids = ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { pid_t($0) }
            if pids.count < 3 { try await Task.sleep(for: .milliseconds(10)) }
        }
        try #require(pids.count == 3)
        // `setsid` inside the agent starts a new session: only what stays in the node's session is the node's.
        let inSession = pids.filter { ProcessSession.members(of: pids[2]).contains($0) }
        #expect(inSession.count == 2)
        await launcher.stop(context: "ctx-1", node: "head-0")
        for pid in inSession { #expect(!ProcessSession.isAlive(pid), "process \(pid) survived the stop") }
        #expect(await launcher.runningCount == 0)
        // Nothing reports an exit for a node the launcher stopped itself.
        #expect(await reporter.reports.isEmpty)
        for pid in pids where !inSession.contains(pid) { kill(pid, SIGKILL) }
    }

    @Test func `a retry replaces the previous generation and keeps the node's address`() async throws {
        let fixture = try Fixture()
        let launcher = fixture.launcher(agent: try fixture.agent("exec sleep 1000"), addresses: fixture.claims())
        let reporter = RecordingReporter()
        await launcher.launch(fixture.request(), reporter: reporter)
        #expect(await reporter.next() == .booted("head-0", 0))
        let root = launcher.root(context: "ctx-1", node: "head-0")
        let first = try JSONDecoder().decode(AgentUserdata.self, from: Data(contentsOf: URL(fileURLWithPath: root + "/.muster/userdata.json")))
        await launcher.launch(fixture.request(generation: 1), reporter: reporter)
        #expect(await reporter.next() == .booted("head-0", 1))
        let second = try JSONDecoder().decode(AgentUserdata.self, from: Data(contentsOf: URL(fileURLWithPath: root + "/.muster/userdata.json")))
        #expect(second.generation == 1)
        #expect(second.nics.first?.ip == first.nics.first?.ip)
        #expect(await launcher.runningCount == 1)
        await launcher.stopAll()
    }

    @Test func `concurrent contexts never share a loopback address`() throws {
        let fixture = try Fixture()
        let one = fixture.claims()
        let two = fixture.claims()
        let a = try (0..<300).map { try one.address(context: "a", index: $0) }
        let b = try (0..<300).map { try two.address(context: "b", index: $0) }
        #expect(Set(a).count == 300)
        #expect(Set(a).isDisjoint(with: b))
        #expect(try one.address(context: "a", index: 7) == a[7], "stable per node")
        one.releaseAll()
        two.releaseAll()
    }
}
