import Crypto
import Foundation
import MusterBroker
import MusterCore
import NIOHTTP1
import Testing

@Suite("Agent download")
struct AgentDownloadTests {
    /// A folder holding a stand-in agent binary for one architecture.
    static func folder(arch: String, contents: String) throws -> String {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-agent-download-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: folder + "/muster-agent-linux-\(arch)"))
        return folder
    }

    @Test func `the broker serves its agent binary without a token, with the SHA-256 launchers write into userdata`() async throws {
        let contents = "#!/bin/sh\necho agent\n"
        let folder = try Self.folder(arch: "aarch64", contents: contents)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let download = try AgentDownload(folder: folder)
        let expected = SHA256.hash(data: Data(contents.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(download.sha256["aarch64"] == expected)
        let broker = try await TestBroker.start(agentDownload: download)
        let reply = try await broker.request(.GET, "/v1/agent/linux/aarch64", auth: .none)
        #expect(reply.status == 200)
        #expect(reply.text == contents)
        #expect(reply.headers.first(name: "X-Muster-SHA256") == expected)
        try await broker.stop()
    }

    @Test func `an architecture with no binary is a 404 with a JSON error`() async throws {
        let folder = try Self.folder(arch: "aarch64", contents: "x")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let broker = try await TestBroker.start(agentDownload: try AgentDownload(folder: folder))
        let reply = try await broker.request(.GET, "/v1/agent/linux/riscv64", auth: .none)
        #expect(reply.status == 404)
        #expect(reply.error?.code == "no-agent-binary")
        #expect(reply.error?.message.contains("aarch64") == true)
        try await broker.stop()
        let bare = try await TestBroker.start()
        #expect(try await bare.request(.GET, "/v1/agent/linux/x86_64", auth: .none).status == 404)
        try await bare.stop()
    }

    @Test func `an unknown architecture name is refused when the binaries are given`() {
        #expect(throws: AgentDownloadError.self) { try AgentDownload(paths: ["sparc": "/bin/sh"]) }
    }
}
