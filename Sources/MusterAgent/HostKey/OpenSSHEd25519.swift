import Crypto
import Foundation

/// Ed25519 keys in OpenSSH's file formats: the public key line (`ssh-ed25519 BASE64 comment`) and the
/// unencrypted `openssh-key-v1` private key (PROTOCOL.key in OpenSSH's sources), as `ssh-keygen` writes them.
enum OpenSSHEd25519 {
    static let keyType = "ssh-ed25519"
    private static let magic = Array("openssh-key-v1\0".utf8)
    private static let begin = "-----BEGIN OPENSSH PRIVATE KEY-----"
    private static let end = "-----END OPENSSH PRIVATE KEY-----"

    /// The SSH wire blob of a public key: `string "ssh-ed25519"`, `string` of its 32 bytes.
    static func blob(_ key: Curve25519.Signing.PublicKey) -> [UInt8] {
        SSHWire.string(keyType) + SSHWire.string(Array(key.rawRepresentation))
    }

    /// The public key line, as in `ssh_host_ed25519_key.pub` (without a line ending).
    static func publicKeyLine(_ key: Curve25519.Signing.PublicKey, comment: String) -> String {
        let line = "\(keyType) \(Data(blob(key)).base64EncodedString())"
        return comment.isEmpty ? line : "\(line) \(comment)"
    }

    /// The private key file's text. `checkInt` is the random value OpenSSH repeats twice to detect a wrong
    /// passphrase (meaningless without a cipher, but part of the format).
    static func privateKeyFile(_ key: Curve25519.Signing.PrivateKey, comment: String, checkInt: UInt32) -> String {
        let publicBlob = blob(key.publicKey)
        var secret = SSHWire.uint32(checkInt) + SSHWire.uint32(checkInt)
        secret += SSHWire.string(keyType)
        secret += SSHWire.string(Array(key.publicKey.rawRepresentation))
        secret += SSHWire.string(Array(key.rawRepresentation) + Array(key.publicKey.rawRepresentation))
        secret += SSHWire.string(comment)
        var pad: UInt8 = 1
        while secret.count % 8 != 0 {
            secret.append(pad)
            pad += 1
        }
        var body = magic
        body += SSHWire.string("none")  // cipher
        body += SSHWire.string("none")  // KDF
        body += SSHWire.string([UInt8]())  // KDF options
        body += SSHWire.uint32(1)  // number of keys
        body += SSHWire.string(publicBlob)
        body += SSHWire.string(secret)
        let base64 = Data(body).base64EncodedString()
        var lines = [begin]
        var start = base64.startIndex
        while start < base64.endIndex {
            let stop = base64.index(start, offsetBy: 70, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[start..<stop]))
            start = stop
        }
        lines.append(end)
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads an unencrypted Ed25519 private key file back: the key and its comment.
    static func parsePrivateKeyFile(_ text: String) throws(SSHWire.FormatError) -> (key: Curve25519.Signing.PrivateKey, comment: String) {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = lines.firstIndex(of: begin), let last = lines.firstIndex(of: end), first < last,
            let decoded = Data(base64Encoded: lines[(first + 1)..<last].joined())
        else { throw SSHWire.FormatError(description: "not an OpenSSH private key file") }
        var reader = SSHWire.Reader(Array(decoded))
        guard try reader.bytes(magic.count) == magic else { throw SSHWire.FormatError(description: "not openssh-key-v1") }
        guard try reader.text() == "none", try reader.text() == "none" else {
            throw SSHWire.FormatError(description: "the key is encrypted")
        }
        _ = try reader.string()
        guard try reader.uint32() == 1 else { throw SSHWire.FormatError(description: "more than one key") }
        let publicBlob = try reader.string()
        var secret = SSHWire.Reader(try reader.string())
        let check = try secret.uint32()
        guard try secret.uint32() == check else { throw SSHWire.FormatError(description: "check values differ") }
        guard try secret.text() == keyType else { throw SSHWire.FormatError(description: "not an Ed25519 key") }
        let publicBytes = try secret.string()
        let secretBytes = try secret.string()
        let comment = try secret.text()
        guard secretBytes.count == 64, publicBytes.count == 32, Array(secretBytes[32...]) == publicBytes else {
            throw SSHWire.FormatError(description: "malformed Ed25519 key")
        }
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: secretBytes[..<32]),
            Array(key.publicKey.rawRepresentation) == publicBytes, blob(key.publicKey) == publicBlob
        else { throw SSHWire.FormatError(description: "the public and private halves do not match") }
        return (key, comment)
    }

    /// The public key line (`ssh-ed25519 BASE64 comment`) of an unencrypted Ed25519 private key file, as
    /// `ssh-keygen -y` derives it.
    static func publicKeyLine(fromPrivateKeyFile text: String) throws(SSHWire.FormatError) -> String {
        let (key, comment) = try parsePrivateKeyFile(text)
        return publicKeyLine(key.publicKey, comment: comment)
    }

    /// Reads an Ed25519 public key line back: the key and its comment.
    static func parsePublicKeyLine(_ line: String) throws(SSHWire.FormatError) -> (key: Curve25519.Signing.PublicKey, comment: String) {
        let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard fields.count >= 2, fields[0] == keyType, let decoded = Data(base64Encoded: String(fields[1])) else {
            throw SSHWire.FormatError(description: "not an ssh-ed25519 public key line")
        }
        var reader = SSHWire.Reader(Array(decoded))
        guard try reader.text() == keyType else { throw SSHWire.FormatError(description: "key type mismatch") }
        let raw = try reader.string()
        guard reader.isAtEnd, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw SSHWire.FormatError(description: "malformed Ed25519 public key")
        }
        return (key, fields.count > 2 ? String(fields[2]).trimmingCharacters(in: .whitespacesAndNewlines) : "")
    }
}
