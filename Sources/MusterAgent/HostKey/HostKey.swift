import Crypto
import Foundation
import MusterSystem

/// The node's SSH host key, whose public half goes into the node's identities.
///
/// The key lives in the node root's `etc/ssh/`, as sshd expects it: an image (or an earlier boot of the same
/// node) may already have one, and then it is used as it is; otherwise the agent makes an Ed25519 pair.
public struct HostKey: Sendable, Hashable {
    /// The public key line, in OpenSSH format (`ssh-ed25519 AAAA… comment`), as ``MusterCore/Identity/pubkey``
    /// carries it.
    public let publicKey: String
    /// Whether this call generated the key (rather than finding it).
    public let generated: Bool

    /// The private key's path under the root.
    public static let privateKeyPath = "etc/ssh/ssh_host_ed25519_key"
    /// The public key's path under the root.
    public static let publicKeyPath = "etc/ssh/ssh_host_ed25519_key.pub"

    /// The node's host key: `<root>/etc/ssh/ssh_host_ed25519_key.pub` if it exists; otherwise the public half
    /// of an existing `ssh_host_ed25519_key` (written next to it); otherwise a new Ed25519 pair, both files
    /// written in OpenSSH format, the private one with mode 0600 from its first byte.
    ///
    /// An existing private key is never replaced.
    ///
    /// - Parameter comment: The comment of a new key (for example the node's host name).
    /// - Throws: ``AgentError/environment(_:)`` (code 3) when the key cannot be read or written.
    public static func loadOrCreate(root: URL, comment: String) throws(AgentError) -> HostKey {
        let publicURL = root.appendingPathComponent(publicKeyPath)
        let privateURL = root.appendingPathComponent(privateKeyPath)
        let manager = FileManager.default
        if manager.fileExists(atPath: publicURL.path) {
            let line: String
            do {
                line = try String(contentsOf: publicURL, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw .environment("cannot read \(publicURL.path): \(error.localizedDescription)")
            }
            guard KnownHosts.keyField(line) != nil, !line.contains("\n") else {
                throw .environment("\(publicURL.path) does not hold one OpenSSH public key line")
            }
            return HostKey(publicKey: line, generated: false)
        }
        if manager.fileExists(atPath: privateURL.path) {
            do {
                let line = try OpenSSHEd25519.publicKeyLine(fromPrivateKeyFile: String(contentsOf: privateURL, encoding: .utf8))
                try AtomicFile.write(Data((line + "\n").utf8), to: publicURL, mode: 0o644)
                return HostKey(publicKey: line, generated: false)
            } catch {
                throw .environment(
                    "\(privateURL.path) exists without its .pub and cannot be read as an unencrypted Ed25519 key (\(error)); "
                        + "add the .pub or remove the key"
                )
            }
        }
        let key = Curve25519.Signing.PrivateKey()
        let line = OpenSSHEd25519.publicKeyLine(key.publicKey, comment: comment)
        let file = OpenSSHEd25519.privateKeyFile(key, comment: comment, checkInt: UInt32.random(in: .min ... .max))
        do {
            try AtomicFile.write(Data(file.utf8), to: privateURL, mode: 0o600)
            try AtomicFile.write(Data((line + "\n").utf8), to: publicURL, mode: 0o644)
        } catch {
            throw .environment("cannot write the host key under \(root.path)/etc/ssh: \(error.localizedDescription)")
        }
        return HostKey(publicKey: line, generated: true)
    }
}
