import Crypto
import Foundation
import Hummingbird
import MusterCore
import MusterLaunch
import NIOCore
import Subprocess
import Synchronization
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

@Suite("EC2 userdata script")
struct EC2UserdataTests {
    static func request(token: String = "mst_node_it's-secret") -> LaunchRequest {
        LaunchRequest(
            context: "ctx-1",
            contextName: "test",
            node: "head-0",
            workspace: "head",
            image: "ami-1",
            nics: [NICSpec(network: "public")],
            generation: 3,
            token: token,
            brokerURL: "http://127.0.0.1:1/",
            scriptTimeoutSeconds: 90
        )
    }

    /// A stand-in agent: records its arguments and the userdata mode into the instance root.
    static let fakeAgent = """
        #!/bin/sh
        echo "$@" > "$MUSTER_INSTANCE_ROOT/agent-args"
        stat -c %a "$MUSTER_INSTANCE_ROOT/etc/muster/userdata.json" > "$MUSTER_INSTANCE_ROOT/userdata-mode"

        """

    static func sha256(_ text: String) -> String { SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined() }

    /// The script of ``request()`` against `broker`, offering an agent whose SHA-256 is that of ``fakeAgent``.
    static func downloadingScript(broker: String) throws -> String {
        var request = Self.request()
        request.brokerURL = broker
        let sums = Dictionary(uniqueKeysWithValues: ["x86_64", "aarch64"].map { ($0, Self.sha256(Self.fakeAgent)) })
        return try EC2Userdata(request: request, scriptTimeoutSeconds: nil, caCertificatePEM: nil, download: .init(sha256: sums)).script()
    }

    /// A fresh folder that stands for an instance's `/`.
    static func instanceRoot() throws -> String {
        let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-userdata-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return root
    }

    /// Waits until the stand-in agent has run to its end (its shell creates `userdata-mode` before `stat` writes
    /// into it, so its content is awaited).
    static func agentRan(in root: String) async throws {
        try await eventually("the agent started", timeout: .seconds(60)) {
            FileManager.default.contents(atPath: root + "/userdata-mode")?.last == UInt8(ascii: "\n")
        }
    }

    /// Runs a userdata script as cloud-init would, with the emulator's two variables; returns its exit status.
    /// `imageBin` is a folder that leads `PATH`, standing for an image's own programs.
    static func boot(_ script: String, root: String, imageBin: String? = nil) async throws -> Int32 {
        let path = root + ".sh"
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        let result = try await Subprocess.run(
            .path("/bin/sh"),
            arguments: [path],
            environment: .custom([
                "PATH": (imageBin.map { $0 + ":" } ?? "") + "/usr/bin:/bin", "MUSTER_INSTANCE_ROOT": root,
                "MUSTER_METADATA_URL": "http://127.0.0.1:9/latest",
            ]),
            output: .discarded,
            error: .string(limit: 65536)
        )
        guard case .exited(let status) = result.terminationStatus else { return -1 }
        return status
    }

    @Test func `the script holds the node's userdata, and quotes what it puts on command lines`() throws {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        let script = try EC2Userdata(
            request: Self.request(),
            scriptTimeoutSeconds: 30,
            caCertificatePEM: pem,
            download: .init(sha256: ["x86_64": "aa", "aarch64": "bb"])
        ).script()
        #expect(script.hasPrefix("#!/bin/sh\n"))
        #expect(script.contains("umask 077"))
        #expect(script.contains("MUSTER_INSTANCE_ROOT") && script.contains("MUSTER_METADATA_URL"))
        #expect(script.contains("\"token\":\"mst_node_it's-secret\""))
        #expect(script.contains("\"generation\":3") && script.contains("\"nics\":[{\"label\":\"publicnic\"}]") && script.contains("\"root\":\"/\""))
        #expect(script.contains("\"scriptTimeoutSeconds\":90"))
        #expect(script.contains("x86_64) sum=aa ;;") && script.contains("aarch64) sum=bb ;;"))
        #expect(script.contains("url=http://127.0.0.1:1/v1/agent/linux/\"$arch\""))
        #expect(script.contains("--cacert \"$etc/broker-ca.pem\""))
        #expect(script.contains("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\nMUSTER_CA_END"))
    }

    @Test func `userdata over EC2's 16 KB is refused`() {
        let pem = String(repeating: "A", count: EC2Userdata.limit)
        #expect(throws: LaunchError.self) {
            try EC2Userdata(request: Self.request(), scriptTimeoutSeconds: nil, caCertificatePEM: pem, download: nil).script()
        }
    }

    @Test func `booting fetches the agent from the broker, checks its SHA-256 and starts it`() async throws {
        let router = Router()
        router.get("/v1/agent/linux/:arch") { _, _ in Self.fakeAgent }
        let broker = try await TestHTTPServer.start(router)
        defer { Task { await broker.stop() } }
        let root = try Self.instanceRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try await Self.boot(try Self.downloadingScript(broker: broker.url), root: root) == 0)
        try await Self.agentRan(in: root)
        let arguments = try String(contentsOfFile: root + "/agent-args", encoding: .utf8)
        #expect(arguments.contains("--userdata \(root)/etc/muster/userdata.json"))
        #expect(arguments.contains("--metadata http://127.0.0.1:9/latest") && arguments.contains("--root \(root)"))
        #expect(try String(contentsOfFile: root + "/userdata-mode", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "600")
        let userdata = try JSONDecoder().decode(AgentUserdata.self, from: Data(contentsOf: URL(fileURLWithPath: root + "/etc/muster/userdata.json")))
        #expect(userdata.token == Self.request().token && userdata.node == "head-0")
    }

    @Test func `an image that carries muster-agent starts its own and downloads nothing`() async throws {
        let requests = RequestCounter()
        let router = Router()
        router.get("/v1/agent/linux/:arch") { _, _ in
            requests.count.withLock { $0 += 1 }
            return Self.fakeAgent
        }
        let broker = try await TestHTTPServer.start(router)
        defer { Task { await broker.stop() } }
        let root = try Self.instanceRoot()
        let imageBin = root + "-image-bin"
        try FileManager.default.createDirectory(atPath: imageBin, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: imageBin)
        }
        // The image's own agent: the same stand-in, plus a mark that it was this one that ran.
        let own = Self.fakeAgent + "echo image > \"$MUSTER_INSTANCE_ROOT/which-agent\"\n"
        try Data(own.utf8).write(to: URL(fileURLWithPath: imageBin + "/muster-agent"))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: imageBin + "/muster-agent")
        #expect(try await Self.boot(try Self.downloadingScript(broker: broker.url), root: root, imageBin: imageBin) == 0)
        try await eventually("the image's agent started", timeout: .seconds(60)) { FileManager.default.fileExists(atPath: root + "/which-agent") }
        try await Self.agentRan(in: root)
        #expect(try String(contentsOfFile: root + "/agent-args", encoding: .utf8).contains("--userdata \(root)/etc/muster/userdata.json"))
        #expect(requests.count.withLock { $0 } == 0, "nothing was downloaded from the broker")
        #expect(!FileManager.default.fileExists(atPath: root + "/usr/local/bin/muster-agent"))
    }

    @Test func `an agent that does not match its SHA-256 is neither installed nor started`() async throws {
        let router = Router()
        router.get("/v1/agent/linux/:arch") { _, _ in Self.fakeAgent + "# tampered\n" }
        let broker = try await TestHTTPServer.start(router)
        defer { Task { await broker.stop() } }
        let root = try Self.instanceRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try await Self.boot(try Self.downloadingScript(broker: broker.url), root: root) != 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/usr/local/bin/muster-agent"))
        #expect(!FileManager.default.fileExists(atPath: root + "/agent-args"))
    }
}

/// How many requests a test route has had.
final class RequestCounter: Sendable {
    let count = Mutex(0)
}
