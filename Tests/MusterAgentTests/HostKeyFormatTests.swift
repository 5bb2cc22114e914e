import Foundation
import Testing

@testable import MusterAgent

@Suite("OpenSSH key format")
struct HostKeyFormatTests {
    @Test("a generated private key file reads back to the key of the public file, with its comment")
    func privateRoundTrip() async throws {
        try await TemporaryNode.with { node in
            let hostKey = try HostKey.loadOrCreate(root: node.root, comment: "node.example.org")
            let text = try #require(node.text(HostKey.privateKeyPath))
            #expect(try OpenSSHEd25519.publicKeyLine(fromPrivateKeyFile: text) == hostKey.publicKey)
            #expect(try OpenSSHEd25519.parsePrivateKeyFile(text).comment == "node.example.org")
            #expect(text.split(separator: "\n").dropFirst().dropLast().allSatisfy { $0.count <= 70 })
        }
    }

    @Test("a public key line holds the SSH wire blob: string \"ssh-ed25519\", string of 32 key bytes")
    func publicBlob() async throws {
        try await TemporaryNode.with { node in
            let line = try HostKey.loadOrCreate(root: node.root, comment: "c").publicKey
            let fields = line.split(separator: " ")
            #expect(fields.count == 3 && fields[0] == "ssh-ed25519" && fields[2] == "c")
            let blob = try #require(Data(base64Encoded: String(fields[1])))
            #expect(blob.count == 51)
            #expect(Array(blob.prefix(15)) == [0, 0, 0, 11] + Array("ssh-ed25519".utf8))
            #expect(Array(blob[15..<19]) == [0, 0, 0, 32])
            #expect(try OpenSSHEd25519.parsePublicKeyLine(line).comment == "c")
        }
    }

    @Test("an encrypted or foreign private key is refused")
    func refusesOthers() {
        #expect(throws: SSHWire.FormatError.self) {
            try OpenSSHEd25519.parsePrivateKeyFile("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")
        }
        var body = Array("openssh-key-v1\0".utf8) + SSHWire.string("aes256-ctr") + SSHWire.string("bcrypt")
        body += SSHWire.string([UInt8]()) + SSHWire.uint32(1)
        let text = "-----BEGIN OPENSSH PRIVATE KEY-----\n\(Data(body).base64EncodedString())\n-----END OPENSSH PRIVATE KEY-----\n"
        #expect(throws: SSHWire.FormatError.self) { try OpenSSHEd25519.parsePrivateKeyFile(text) }
    }
}
