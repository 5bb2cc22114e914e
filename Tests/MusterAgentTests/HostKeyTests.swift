import Foundation
import MusterAgent
import MusterSystem
import Testing

/// ssh-keygen, where this machine has it.
private let sshKeygenPath = ["/usr/bin/ssh-keygen", "/bin/ssh-keygen"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("Host key", .timeLimit(.minutes(5)))
struct HostKeyTests {
    /// Runs ssh-keygen and returns its exit status and standard output.
    func sshKeygen(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(sshKeygenPath))
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = try pipe.fileHandleForReading.readUntilClosed()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    func mode(_ url: URL) throws -> Int { try #require(FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) }

    @Test("a node without a key gets an Ed25519 pair in OpenSSH format, the private half 0600")
    func generates() async throws {
        try await TemporaryNode.with { node in
            let key = try HostKey.loadOrCreate(root: node.root, comment: "head-0.ctx.muster.local")
            #expect(key.generated)
            #expect(key.publicKey.hasPrefix("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"))
            #expect(key.publicKey.hasSuffix(" head-0.ctx.muster.local"))
            #expect(node.text(HostKey.publicKeyPath) == key.publicKey + "\n")
            let privateKey = node.root.appendingPathComponent(HostKey.privateKeyPath)
            #expect(try mode(privateKey) == 0o600)
            let text = try #require(node.text(HostKey.privateKeyPath))
            #expect(text.hasPrefix("-----BEGIN OPENSSH PRIVATE KEY-----\n"))
            #expect(text.hasSuffix("-----END OPENSSH PRIVATE KEY-----\n"))
        }
    }

    @Test(
        "ssh-keygen derives the same public key from the private file and accepts the public file",
        .enabled(if: sshKeygenPath != nil)
    )
    func sshKeygenAgrees() async throws {
        try await TemporaryNode.with { node in
            let key = try HostKey.loadOrCreate(root: node.root, comment: "node")
            let (derivedStatus, derived) = try sshKeygen(["-y", "-f", node.root.appendingPathComponent(HostKey.privateKeyPath).path])
            #expect(derivedStatus == 0)
            #expect(derived.split(separator: " ").prefix(2) == key.publicKey.split(separator: " ").prefix(2))
            let (listStatus, listing) = try sshKeygen(["-l", "-f", node.root.appendingPathComponent(HostKey.publicKeyPath).path])
            #expect(listStatus == 0)
            #expect(listing.hasPrefix("256 SHA256:"))
            #expect(listing.contains("(ED25519)"))
        }
    }

    @Test("an existing public key is used as it is, and a second call finds the generated one")
    func existingKeyKept() async throws {
        try await TemporaryNode.with { node in
            let first = try HostKey.loadOrCreate(root: node.root, comment: "a")
            let second = try HostKey.loadOrCreate(root: node.root, comment: "b")
            #expect(!second.generated)
            #expect(second.publicKey == first.publicKey)

            let image = node.root.appendingPathComponent("image")
            let line = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 root@image"
            try FileManager.default.createDirectory(at: image.appendingPathComponent("etc/ssh"), withIntermediateDirectories: true)
            try Data((line + "\n").utf8).write(to: image.appendingPathComponent(HostKey.publicKeyPath))
            let found = try HostKey.loadOrCreate(root: image, comment: "x")
            #expect(found.publicKey == line && !found.generated)
        }
    }

    @Test(
        "a private key made by ssh-keygen without its .pub gets the .pub ssh-keygen would write",
        .enabled(if: sshKeygenPath != nil)
    )
    func derivesFromSSHKeygenKey() async throws {
        try await TemporaryNode.with { node in
            let privateKey = node.root.appendingPathComponent(HostKey.privateKeyPath)
            try FileManager.default.createDirectory(at: privateKey.deletingLastPathComponent(), withIntermediateDirectories: true)
            let (status, _) = try sshKeygen(["-q", "-t", "ed25519", "-N", "", "-C", "made@keygen", "-f", privateKey.path])
            #expect(status == 0)
            let expected = try #require(node.text(HostKey.publicKeyPath)).trimmingCharacters(in: .whitespacesAndNewlines)
            try FileManager.default.removeItem(at: node.root.appendingPathComponent(HostKey.publicKeyPath))
            let key = try HostKey.loadOrCreate(root: node.root, comment: "unused")
            #expect(key.publicKey == expected)
            #expect(!key.generated)
        }
    }

    @Test("an unreadable private key without its .pub is an environment error, and it is not replaced")
    func unreadablePrivateKey() async throws {
        try await TemporaryNode.with { node in
            let privateKey = node.root.appendingPathComponent(HostKey.privateKeyPath)
            try FileManager.default.createDirectory(at: privateKey.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("not a key".utf8).write(to: privateKey)
            #expect(throws: AgentError.self) { try HostKey.loadOrCreate(root: node.root, comment: "x") }
            #expect(node.text(HostKey.privateKeyPath) == "not a key")
        }
    }
}
