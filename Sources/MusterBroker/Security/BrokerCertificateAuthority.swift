import Crypto
import Foundation
import MusterSystem
import SwiftASN1
import X509

/// The broker's own certificate authority, so that agents can reach the broker over TLS with nothing but the
/// CA certificate pinned in their userdata (no public CA, no `--insecure`).
///
/// ``loadOrCreate(folder:serverName:now:)`` keeps four files in a folder of its own (mode 0700):
/// `ca-key.pem` and `server-key.pem` (P-256 private keys, mode 0600, created with `O_EXCL` before a byte is
/// written), `ca-cert.pem` and `server-cert.pem`. The first start creates them; later starts load them, and
/// issue a new server certificate (with a new key) when the server name changed, the stored one was not signed
/// by this CA, or it expires within 30 days. The CA itself is kept, so pinned agents keep trusting the broker.
public struct BrokerCertificateAuthority: Sendable {
    /// The CA certificate (PEM), to pin in agents' userdata and clients' `--ca-cert`.
    public let caCertificatePEM: String
    /// The server certificate (PEM) for ``serverName``.
    public let serverCertificatePEM: String
    /// The DNS name or IP address the server certificate is for.
    public let serverName: String
    /// The folder holding the files.
    public let folder: String
    /// Whether this start issued a new server certificate (first start, new name, renewal).
    public let issuedServerCertificate: Bool

    /// The server certificate chain and key, for ``BrokerServerConfiguration/tls``.
    public var tlsFiles: BrokerServerConfiguration.TLSFiles {
        BrokerServerConfiguration.TLSFiles(certificate: path(Self.serverCertificateFile), key: path(Self.serverKeyFile))
    }

    static let caKeyFile = "ca-key.pem"
    static let caCertificateFile = "ca-cert.pem"
    static let serverKeyFile = "server-key.pem"
    static let serverCertificateFile = "server-cert.pem"

    private func path(_ file: String) -> String { (folder as NSString).appendingPathComponent(file) }

    /// Loads the CA and server certificate from `folder`, creating or reissuing what is missing or stale.
    ///
    /// - Parameter serverName: the DNS name or IP address agents use to reach the broker.
    public static func loadOrCreate(
        folder: String,
        serverName: String,
        now: Date = Date()
    ) throws(CertificateAuthorityError)
        -> BrokerCertificateAuthority
    {
        func path(_ file: String) -> String { (folder as NSString).appendingPathComponent(file) }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CertificateAuthorityError(.storage, "cannot create \(folder): \(error)")
        }
        let ca: Certificate
        let caKey: P256.Signing.PrivateKey
        if FileManager.default.fileExists(atPath: path(caKeyFile)) {
            caKey = try loadKey(path(caKeyFile))
            ca = try loadCertificate(path(caCertificateFile))
            guard ca.publicKey == Certificate.PublicKey(caKey.publicKey) else {
                throw CertificateAuthorityError(
                    .corrupt,
                    "\(path(caCertificateFile)) is not the certificate of \(path(caKeyFile)); restore them, or remove the folder to make a new CA (agents must then be given the new one)"
                )
            }
        } else {
            // A CA certificate without its key cannot sign: start over with a new CA.
            let made = try CertificateIssuer.makeCA(now: now)
            try store(made.key.pemRepresentation + "\n", at: path(caKeyFile), mode: 0o600)
            try store(try pem(made.certificate), at: path(caCertificateFile), mode: 0o644)
            (ca, caKey) = (made.certificate, made.key)
        }
        var issued = false
        if !hasServerCertificate(folder: folder, name: serverName, ca: ca, now: now) {
            let made = try CertificateIssuer.makeServer(name: serverName, ca: ca, caKey: caKey, now: now)
            try store(made.key.pemRepresentation + "\n", at: path(serverKeyFile), mode: 0o600)
            try store(try pem(made.certificate), at: path(serverCertificateFile), mode: 0o644)
            issued = true
        }
        return BrokerCertificateAuthority(
            caCertificatePEM: try pem(ca),
            serverCertificatePEM: try readText(path(serverCertificateFile)),
            serverName: serverName,
            folder: folder,
            issuedServerCertificate: issued
        )
    }

    /// Writes a key (0600, never readable by anyone else for a moment) or a certificate, whole or not at all.
    private static func store(_ text: String, at path: String, mode: mode_t) throws(CertificateAuthorityError) {
        do {
            try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: path), mode: mode, folderMode: 0o700)
        } catch {
            throw CertificateAuthorityError(.storage, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Whether the stored server key and certificate belong together and serve `name` for a while yet.
    private static func hasServerCertificate(folder: String, name: String, ca: Certificate, now: Date) -> Bool {
        let keyPath = (folder as NSString).appendingPathComponent(serverKeyFile)
        let certificatePath = (folder as NSString).appendingPathComponent(serverCertificateFile)
        guard FileManager.default.fileExists(atPath: keyPath), let key = try? loadKey(keyPath),
            let certificate = try? loadCertificate(certificatePath)
        else { return false }
        return certificate.publicKey == Certificate.PublicKey(key.publicKey) && CertificateIssuer.serves(certificate, name: name, ca: ca, now: now)
    }

    private static func pem(_ certificate: Certificate) throws(CertificateAuthorityError) -> String {
        do {
            return try certificate.serializeAsPEM().pemString + "\n"
        } catch {
            throw CertificateAuthorityError(.signing, "cannot encode a certificate: \(error)")
        }
    }

    private static func readText(_ path: String) throws(CertificateAuthorityError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CertificateAuthorityError(.storage, "cannot read \(path): \(error)")
        }
    }

    private static func loadKey(_ path: String) throws(CertificateAuthorityError) -> P256.Signing.PrivateKey {
        let text = try readText(path)
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: text)
        } catch {
            throw CertificateAuthorityError(.corrupt, "\(path) is not a P-256 private key in PEM: \(error)")
        }
    }

    private static func loadCertificate(_ path: String) throws(CertificateAuthorityError) -> Certificate {
        let text = try readText(path)
        do {
            return try Certificate(pemEncoded: text)
        } catch {
            throw CertificateAuthorityError(.corrupt, "\(path) is not a PEM certificate: \(error)")
        }
    }
}
