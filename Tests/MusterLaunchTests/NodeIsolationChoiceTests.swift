import Foundation
import MusterCore
import MusterLaunch
import MusterSystem
import Testing

/// How the local launcher separates nodes from the operator: choosing the isolation, and nodes under user ids of
/// their own (as root).
@Suite("Local node isolation")
struct NodeIsolationChoiceTests {
    typealias Fixture = LocalLauncherTests.Fixture

    static func owner(_ path: String) -> uid_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_uid : nil
    }

    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    /// A range of 1,000 ids for one test, so that parallel tests cannot share an id by chance.
    static func range() throws -> NodeUserRange {
        let first = UInt32.random(in: 2_100_100_000...2_140_000_000)
        return try NodeUserRange(first: first, last: first + 999)
    }

    @Test func `node user ids are parsed as FIRST-LAST and refused otherwise, with the form to use`() throws {
        #expect(try NodeUserRange(parsing: "2000-2999") == NodeUserRange(first: 2_000, last: 2_999))
        for text in ["2000", "2999-2000", "0-10", "a-b", "-5", "1-2-3"] {
            #expect(throws: LaunchError.self, "\(text)") { try NodeUserRange(parsing: text) }
        }
        do {
            _ = try NodeUserRange(parsing: "2000")
        } catch {
            #expect(error.message.contains("FIRST-LAST"))
        }
    }

    @Test(.enabled(if: geteuid() != 0, "as root, separate users are possible"))
    func `asking for separate users without root is refused with the reason`() async throws {
        let fixture = try Fixture()
        await #expect(throws: LaunchError.self) {
            try await NodeIsolation.choose(.users, workFolder: fixture.work, agentExecutable: "/bin/true")
        }
    }

    @Test(.enabled(if: geteuid() == 0, "separate node users need root"))
    func `as root, a work folder that others cannot cross rules separate users out, and says where`() async throws {
        let fixture = try Fixture()
        let closed = fixture.folder + "/closed"
        try FileManager.default.createDirectory(atPath: closed + "/work", withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: closed)
        do {
            _ = try await NodeIsolation.choose(.users, workFolder: closed + "/work", agentExecutable: "/bin/true")
            Issue.record("separate users were chosen for a work folder nodes cannot reach")
        } catch {
            #expect(error.message.contains("\(closed) cannot be crossed by other users"), "\(error.message)")
        }
        #expect(
            try await NodeIsolation.choose(.none, workFolder: closed + "/work", agentExecutable: "/bin/true")
                == .notIsolated(reason: "asked for with --isolation none")
        )
        // Open, it is the automatic choice.
        #expect(try await NodeIsolation.choose(.auto, workFolder: fixture.work, agentExecutable: "/bin/true") == .separateUsers(.standard))
    }

    @Test(.enabled(if: geteuid() == 0, "separate node users need root"))
    func `as root, a node runs under a user id of its own that owns its root, and the folders above can only be crossed`() async throws {
        let fixture = try Fixture()
        let range = try Self.range()
        let launcher = fixture.launcher(
            agent: try fixture.agent("id -u > ./ids; id -g >> ./ids; exec sleep 1000"),
            addresses: fixture.claims(),
            isolation: .separateUsers(range)
        )
        let other = fixture.request(node: "head-1")
        let reporter = RecordingReporter()
        await launcher.launch(fixture.request(), reporter: reporter)
        await launcher.launch(other, reporter: reporter)
        #expect(await reporter.next() == .booted("head-0", 0))
        #expect(await reporter.next() == .booted("head-1", 0))
        let root = launcher.root(context: "ctx-1", node: "head-0")
        var ids: [UInt32] = []
        for _ in 0..<500 where ids.count < 2 {
            ids = FileLines.lines(root + "/ids").compactMap { UInt32($0) }
            if ids.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
        }
        try #require(ids.count == 2)
        #expect((range.first...range.last).contains(ids[0]))
        #expect(ids[1] == ids[0], "its group is its own too")
        #expect(Self.owner(root) == ids[0] && Self.mode(root) == 0o700)
        #expect(Self.owner(root + "/.muster/userdata.json") == ids[0] && Self.mode(root + "/.muster/userdata.json") == 0o600)
        #expect(Self.owner(root + "/ctx-scripts/1-ipandhost/head") == ids[0])
        #expect(Self.mode(fixture.work + "/ctx-1/nodes") == 0o711 && Self.mode(fixture.work + "/ctx-1") == 0o711)
        #expect(Self.owner(fixture.work + "/ctx-1/nodes") == 0)
        // The other node has an id of its own.
        let otherRoot = launcher.root(context: "ctx-1", node: "head-1")
        #expect(Self.owner(otherRoot) != ids[0] && Self.owner(otherRoot).map { (range.first...range.last).contains($0) } == true)
        await launcher.stopAll()
        #expect(UserProcesses.members(of: ids[0]).isEmpty)
    }

    @Test(.enabled(if: geteuid() == 0, "separate node users need root"))
    func `as root, stopping a node also ends what left its session`() async throws {
        let fixture = try Fixture()
        let launcher = fixture.launcher(
            agent: try fixture.agent("setsid sh -c 'sleep 1000' & echo $! > ./escaped; exec sleep 1000"),
            addresses: fixture.claims(),
            isolation: .separateUsers(try Self.range())
        )
        let reporter = RecordingReporter()
        await launcher.launch(fixture.request(), reporter: reporter)
        #expect(await reporter.next() == .booted("head-0", 0))
        let root = launcher.root(context: "ctx-1", node: "head-0")
        var escaped: pid_t?
        for _ in 0..<500 where escaped == nil {
            escaped = FileLines.lines(root + "/escaped").first.flatMap { pid_t($0) }
            if escaped == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let pid = try #require(escaped)
        #expect(ProcessSession.isAlive(pid))
        await launcher.stop(context: "ctx-1", node: "head-0")
        #expect(!ProcessSession.isAlive(pid), "the process that left the node's session survived")
        await launcher.stopAll()
    }
}

extension NodeIsolationChoiceTests {
    @Test(.enabled(if: geteuid() == 0, "separate node users need root"))
    func `as root, a retry neither follows a link nor blocks on a FIFO that the node left in its root`() async throws {
        let fixture = try Fixture()
        let outside = fixture.folder + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        // The first generation swaps its `.muster` for a link to a folder of root's and its log for a FIFO; the next
        // one just runs.
        let hostile = try fixture.agent(
            """
            if [ ! -e swapped ]; then
              touch swapped && rm -rf .muster && ln -s \(outside) .muster && rm -f agent.log && mkfifo agent.log && exit 3
            fi
            exec sleep 1000
            """
        )
        let launcher = fixture.launcher(agent: hostile, addresses: fixture.claims(), isolation: .separateUsers(try Self.range()))
        let reporter = RecordingReporter()
        await launcher.launch(fixture.request(), reporter: reporter)
        #expect(await reporter.next() == .booted("head-0", 0))
        guard case .exited(_, 0, 3, _) = await reporter.next() else {
            Issue.record("the hostile agent did not exit as planned")
            return
        }
        let root = launcher.root(context: "ctx-1", node: "head-0")
        var left = stat()
        #expect(lstat(root + "/agent.log", &left) == 0 && left.st_mode & S_IFMT == S_IFIFO, "the node left a FIFO")
        await launcher.launch(fixture.request(generation: 1), reporter: reporter)
        #expect(await reporter.next() == .booted("head-0", 1))
        #expect(!FileManager.default.fileExists(atPath: outside + "/userdata.json"), "the launcher wrote through the node's link")
        var info = stat()
        #expect(lstat(root + "/.muster", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR)
        #expect(lstat(root + "/agent.log", &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
        await launcher.stopAll()
    }
}

/// Reads a small file's lines (empty when it is not there yet).
enum FileLines {
    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
