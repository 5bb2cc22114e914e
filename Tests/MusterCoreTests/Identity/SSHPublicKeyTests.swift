import Foundation
import Testing

@testable import MusterCore

@Suite("SSH host public keys")
struct SSHPublicKeyTests {
    @Test(arguments: TestKeys.generated)
    func `keys made by ssh-keygen are accepted`(line: String) throws {
        let key = try SSHPublicKey(line)
        #expect(line.hasPrefix(key.type.rawValue + " "))
        #expect(key.line == line)
        #expect(key.comment?.hasPrefix("root@node-") == true)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-keygen")), arguments: ["ed25519", "rsa", "ecdsa"])
    func `keys ssh-keygen makes now are accepted`(type: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("key").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        process.arguments = ["-q", "-t", type, "-N", "", "-C", "root@fresh", "-f", path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let line = try String(contentsOfFile: path + ".pub", encoding: .utf8).trimmingCharacters(in: .newlines)
        #expect(try SSHPublicKey(line).comment == "root@fresh")
    }

    @Test func `a key without a comment is accepted and keeps none`() throws {
        let line = String(TestKeys.generated[0].split(separator: " ").prefix(2).joined(separator: " "))
        let key = try SSHPublicKey(line)
        #expect(key.comment == nil)
        #expect(key.keyField == line)
    }

    @Test func `an Ed25519 key made in code round-trips through its line`() throws {
        let made = SSHPublicKey(ed25519: Array(repeating: 7, count: 32), comment: "root@made")
        let parsed = try SSHPublicKey(made.line)
        #expect(parsed == made)
        #expect(parsed.blob.count == 4 + 11 + 4 + 32)
    }

    @Test func `security keys with an application are accepted`() throws {
        var ed = SSHWireWriter()
        ed.string(Array("sk-ssh-ed25519@openssh.com".utf8))
        ed.string(Array(repeating: 1, count: 32))
        ed.string(Array("ssh:".utf8))
        #expect(try SSHPublicKey("sk-ssh-ed25519@openssh.com \(Base64.encode(ed.bytes)) yubikey").type == .skEd25519)
        var ec = SSHWireWriter()
        ec.string(Array("sk-ecdsa-sha2-nistp256@openssh.com".utf8))
        ec.string(Array("nistp256".utf8))
        ec.string([4] + Array(repeating: 2, count: 64))
        ec.string(Array("ssh:".utf8))
        #expect(try SSHPublicKey("sk-ecdsa-sha2-nistp256@openssh.com \(Base64.encode(ec.bytes))").type == .skECDSAP256)
    }

    static let ed25519 = TestKeys.generated[0]
    static let ed25519Data = String(ed25519.split(separator: " ")[1])

    @Test(arguments: [
        ("", SSHPublicKeyError.Code.format),
        ("ssh-ed25519", .format),
        ("@cert-authority * \(ed25519)", .unknownType),
        ("@revoked \(ed25519)", .unknownType),
        ("* \(ed25519)", .unknownType),
        ("ssh-dss \(ed25519Data)", .unknownType),
        ("SSH-ED25519 \(ed25519Data)", .unknownType),
        ("\(ed25519)\n@cert-authority * \(ed25519)", .format),
        ("\(ed25519)\r", .format),
        ("\(ed25519)\u{0}", .format),
        ("\(ed25519) tab\tcomment", .format),
        ("\(ed25519) comment \u{1b}[2J", .format),
        ("\(ed25519) caf\u{E9}", .format),
        (" \(ed25519)", .format),
        ("ssh-ed25519 \(ed25519Data.dropLast())", .base64),
        ("ssh-ed25519 AAAA*AAA", .base64),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIItBoDFw6BjI1MUuLYx6uoEQo2WRYdriY2OLo91RXEZ", .base64),
        ("ssh-rsa \(ed25519Data)", .blob),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", .keySize),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAHwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", .keySize),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", .blob),
        ("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAAAgQDH", .blob),
    ])
    func `malformed, marked or foreign key lines are refused`(line: String, code: SSHPublicKeyError.Code) {
        #expect(throws: SSHPublicKeyError.self) { try SSHPublicKey(line) }
        do {
            _ = try SSHPublicKey(line)
        } catch {
            #expect(error.code == code, "\(error)")
            #expect(!error.reason.contains("\n") && !error.reason.contains("\u{1b}"))
        }
    }

    @Test func `an RSA modulus below 1024 bits is refused`() throws {
        var writer = SSHWireWriter()
        writer.string(Array("ssh-rsa".utf8))
        writer.string([1, 0, 1])
        writer.string([0x7F] + Array(repeating: 0xFF, count: 62) + [0x01])
        #expect(throws: SSHPublicKeyError.self) { try SSHPublicKey("ssh-rsa \(Base64.encode(writer.bytes))") }
    }

    @Test func `an ECDSA key must name its own curve`() throws {
        var writer = SSHWireWriter()
        writer.string(Array("ecdsa-sha2-nistp384".utf8))
        writer.string(Array("nistp256".utf8))
        writer.string([4] + Array(repeating: 2, count: 64))
        #expect(throws: SSHPublicKeyError.self) { try SSHPublicKey("ecdsa-sha2-nistp384 \(Base64.encode(writer.bytes))") }
    }

    @Test func `a line longer than the limit is refused before decoding`() {
        let line = "ssh-ed25519 " + String(repeating: "A", count: SSHPublicKey.maximumLength)
        #expect(throws: SSHPublicKeyError.self) { try SSHPublicKey(line) }
    }

    @Test(arguments: ["", "f", "fo", "foo", "foob", "fooba", "foobar"])
    func `base64 round-trips and refuses non-canonical padding bits`(text: String) throws {
        let encoded = Base64.encode(Array(text.utf8))
        #expect(Base64.decode(Array(encoded.utf8)) == (text.isEmpty ? nil : Array(text.utf8)))
    }

    @Test func `base64 with stray bits, bad padding or whitespace is refused`() {
        for bad in ["Zh==", "Zm9=", "Zg=", "Z===", "Zg==Zg==", "Zm9v\n", " Zm9v", "Zm 9v", "Zm9v=", "=Zm9"] {
            #expect(Base64.decode(Array(bad.utf8)) == nil, "\(bad)")
        }
        #expect(Base64.decode(Array("Zg==".utf8)) == Array("f".utf8))
    }
}
