import AsyncHTTPClient
import Foundation
import MusterBroker
import MusterCore
import NIOCore
import NIOHTTP1
import Subprocess
import Testing

/// Which `muster-agent` a broker serves to stock images, and whether a stock image could start it: the ordinary
/// build needs the toolchain's `libswiftCore.so`; one linked with `--static-swift-stdlib` needs only the C
/// library. `.ci/run` builds the static one and names it in `$MUSTER_STATIC_AGENT`; without it, `/bin/true`
/// stands for a self-contained executable.
@Suite("Agent binaries for stock images")
struct AgentBinaryTests {
    /// The ordinary build, beside the tests.
    static var ordinaryAgent: String { EC2Broker.productsFolder.appendingPathComponent("muster-agent").path }

    /// An executable that needs no Swift runtime: the static agent when CI built one.
    static var selfContained: String { EC2Broker.staticAgent ?? "/bin/true" }

    /// A fresh folder standing for the one `muster` is installed in, with symbolic links to `files` (name → target).
    static func installation(_ files: [String: String]) throws -> String {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-agent-binaries-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, target) in files {
            try FileManager.default.createSymbolicLink(atPath: folder + "/" + name, withDestinationPath: target)
        }
        return folder
    }

    /// What `ldd` lists for `path`.
    static func ldd(_ path: String) async throws -> String {
        let result = try await Subprocess.run(.name("ldd"), arguments: [path], output: .string(limit: 1 << 20), error: .discarded)
        return result.standardOutput
    }

    @Test func `the ordinary build needs the Swift runtime, as ldd says, and the self-contained one does not`() async throws {
        let listed = try await Self.ldd(Self.ordinaryAgent)
        try #require(listed.contains("libswiftCore.so"), "ldd: \(listed)")
        guard case .needsSwiftRuntime(let libraries) = AgentLinkage(path: Self.ordinaryAgent) else {
            Issue.record("the ordinary build reads as \(AgentLinkage(path: Self.ordinaryAgent))")
            return
        }
        #expect(libraries.contains("libswiftCore.so"))
        #expect(libraries.allSatisfy { listed.contains($0) }, "every library found is one ldd lists")
        #expect(AgentLinkage(path: Self.selfContained) == .selfContained)
        #expect(!(try await Self.ldd(Self.selfContained)).contains("libswift"))
        #expect(AgentLinkage(path: "/bin/sh") == .selfContained)
        let script = try CommandRunnerFiles.write("#!/bin/sh\necho agent\n")
        #expect(AgentLinkage(path: script) == .unknown)
    }

    @Test func `with a static agent beside muster, the broker serves it, not the ordinary build`() async throws {
        let arch = AgentDownload.hostArchitecture
        let folder = try Self.installation(["muster-agent": Self.ordinaryAgent, AgentDownload.fileName(for: arch): Self.selfContained])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let download = try AgentDownload(folder: folder)
        let served = try #require(download.binaries[arch])
        #expect(served.path == folder + "/" + AgentDownload.fileName(for: arch))
        #expect(served.linkage == .selfContained)
        #expect(!(try await Self.ldd(served.path)).contains("libswift"), "what a stock image gets needs no Swift runtime")
        #expect(download.warnings.isEmpty, "\(download.warnings)")
        #expect(download.descriptions == ["serving muster-agent for linux/\(arch): \(served.path) (static, sha256 \(served.sha256.prefix(12)))"])
        #expect(download.health.map(\.linkage) == ["static"] && download.health.first?.file == AgentDownload.fileName(for: arch))
    }

    @Test func `a static muster-agent is preferred to a dynamically linked muster-agent-linux-ARCH`() throws {
        let arch = AgentDownload.hostArchitecture
        let folder = try Self.installation(["muster-agent": Self.selfContained, AgentDownload.fileName(for: arch): Self.ordinaryAgent])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try AgentDownload(folder: folder).binaries[arch]?.path == folder + "/muster-agent")
    }

    @Test func `with only the ordinary build, it is served with a warning that names the libraries and the fix`() throws {
        let arch = AgentDownload.hostArchitecture
        let folder = try Self.installation(["muster-agent": Self.ordinaryAgent])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let download = try AgentDownload(folder: folder)
        #expect(download.binaries[arch]?.linkage.word == "dynamic")
        let warning = try #require(download.warnings.first)
        #expect(warning.contains("linux/\(arch)") && warning.contains("libswiftCore.so"))
        #expect(warning.contains(AgentDownload.staticBuildCommand) && warning.contains(AgentDownload.fileName(for: arch)))
        #expect(AgentDownload.none.warnings.first?.contains("no muster-agent to serve") == true)
    }

    @Test func `--agent-binary takes the architecture from the file and refuses what is not a Linux executable`() throws {
        let folder = try Self.installation([:])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let download = try AgentDownload(folder: folder, explicit: [Self.selfContained])
        #expect(download.binaries[AgentDownload.hostArchitecture]?.path == Self.selfContained)
        let script = try CommandRunnerFiles.write("#!/bin/sh\n")
        #expect(throws: AgentDownloadError.self) { try AgentDownload(folder: folder, explicit: [script]) }
        #expect(throws: AgentDownloadError.self) { try AgentDownload(folder: folder, explicit: [folder + "/missing"]) }
    }

    @Test func `muster broker logs which agent it serves, healthz lists it, and the download is that file`() async throws {
        let state = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-agent-broker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let broker = try MusterCommand(
            ["broker", "--listen", "127.0.0.1:0", "--state", state, "--agent-binary", Self.selfContained],
            environment: ["MUSTER_TOKEN": "mst_op_agent-binary-test"],
            directory: state
        )
        defer { broker.signal(SIGTERM) }
        try await broker.waitFor("muster broker listening on ", timeout: .seconds(180))
        let arch = AgentDownload.hostArchitecture
        #expect(broker.text.contains("serving muster-agent for linux/\(arch): \(Self.selfContained) (static, sha256 "), "\(broker.text)")
        #expect(!broker.text.contains("linked dynamically"), "\(broker.text)")
        let line = broker.text.split(separator: "\n").first { $0.contains("muster broker listening on ") } ?? ""
        let url = try #require(line.components(separatedBy: "listening on ").last?.split(separator: " ").first.map(String.init))
        let health = try WireFormat.decoder().decode(HealthStatus.self, from: try await Self.get(url + "/v1/healthz"))
        let agent = try #require(health.agents?.first)
        #expect(agent.architecture == arch && agent.linkage == "static" && agent.file == (Self.selfContained as NSString).lastPathComponent)
        let served = try await Self.get(url + "/v1/agent/linux/\(arch)")
        #expect(served == FileManager.default.contents(atPath: Self.selfContained))
        broker.signal(SIGTERM)
        #expect(try await broker.wait() == 0, "\(broker.text)")
    }

    @Test func `muster broker refuses an --agent-binary that is not a Linux executable, saying which`() async throws {
        let state = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-agent-broker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let script = try CommandRunnerFiles.write("#!/bin/sh\n")
        let broker = try MusterCommand(
            ["broker", "--listen", "127.0.0.1:0", "--state", state, "--agent-binary", script],
            environment: ["MUSTER_TOKEN": "mst_op_agent-binary-test"],
            directory: state
        )
        #expect(try await broker.wait() == 78, "\(broker.text)")
        #expect(broker.text.contains("--agent-binary: \(script) is not an x86_64 or aarch64 Linux executable"), "\(broker.text)")
        #expect(!broker.text.contains("listening"))
    }

    static func get(_ url: String) async throws -> Data {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        #expect(response.status.code == 200, "GET \(url)")
        return Data(try await response.body.collect(upTo: 512 * 1024 * 1024).readableBytesView)
    }
}

/// Small files for tests, each in a fresh temporary folder.
enum CommandRunnerFiles {
    static func write(_ text: String) throws -> String {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/file"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
