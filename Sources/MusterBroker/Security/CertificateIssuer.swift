import Crypto
import Foundation
import SwiftASN1
import X509

/// Makes the broker's certificates: a CA that signs nothing but broker server certificates, and a server
/// certificate for one DNS name or IP address (its subject alternative name). P-256 keys, ECDSA with SHA-256.
enum CertificateIssuer {
    /// How long the CA is valid.
    static let caLifetime: TimeInterval = 10 * 365 * 24 * 3600
    /// How long a server certificate is valid; it is reissued when less than ``renewBefore`` is left.
    static let serverLifetime: TimeInterval = 397 * 24 * 3600
    /// Reissue a server certificate that has less than this left.
    static let renewBefore: TimeInterval = 30 * 24 * 3600

    /// A new CA key and self-signed CA certificate.
    static func makeCA(now: Date) throws(CertificateAuthorityError) -> (key: P256.Signing.PrivateKey, certificate: Certificate) {
        let key = P256.Signing.PrivateKey()
        do {
            let name = try DistinguishedName {
                OrganizationName("Muster")
                CommonName("Muster broker CA \(UUID().uuidString.prefix(8))")
            }
            let publicKey = Certificate.PublicKey(key.publicKey)
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: publicKey,
                notValidBefore: now - 3600,
                notValidAfter: now + caLifetime,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: publicKey)
                },
                issuerPrivateKey: Certificate.PrivateKey(key)
            )
            return (key, certificate)
        } catch {
            throw CertificateAuthorityError(.signing, "cannot make the CA certificate: \(error)")
        }
    }

    /// The names a server certificate for `name` carries: `name` itself, then this machine's loopback names, so
    /// that the operator's tools on the broker's machine reach it at 127.0.0.1 with the same certificate.
    static func alternativeNames(for name: String) throws(CertificateAuthorityError) -> [GeneralName] {
        var names = [try generalName(name)]
        for local in ["127.0.0.1", "::1", "localhost"] {
            let general = try generalName(local)
            if !names.contains(general) { names.append(general) }
        }
        return names
    }

    /// A new server key and certificate for `name` (and the loopback names), signed by the CA.
    static func makeServer(
        name: String,
        ca: Certificate,
        caKey: P256.Signing.PrivateKey,
        now: Date
    ) throws(CertificateAuthorityError) -> (key: P256.Signing.PrivateKey, certificate: Certificate) {
        let alternativeNames = try alternativeNames(for: name)
        let key = P256.Signing.PrivateKey()
        do {
            let subject = try DistinguishedName {
                OrganizationName("Muster")
                CommonName(name)
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: Certificate.PublicKey(key.publicKey),
                notValidBefore: now - 3600,
                notValidAfter: min(now + serverLifetime, ca.notValidAfter),
                issuer: ca.subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(alternativeNames)
                    AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: ca.publicKey).keyIdentifier)
                },
                issuerPrivateKey: Certificate.PrivateKey(caKey)
            )
            return (key, certificate)
        } catch {
            throw CertificateAuthorityError(.signing, "cannot make the server certificate for \(name): \(error)")
        }
    }

    /// The subject alternative name for a server name: an IP address when it parses as one, else a DNS name.
    static func generalName(_ name: String) throws(CertificateAuthorityError) -> GeneralName {
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: &v4) { Array($0) })))
        }
        var v6 = in6_addr()
        let bare = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
        if inet_pton(AF_INET6, bare, &v6) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: &v6) { Array($0) })))
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            !name.isEmpty && name.count <= 253
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
        guard valid else {
            throw CertificateAuthorityError(
                .badName,
                "'\(name)' is neither an IP address nor a DNS name: give the name agents use to reach the broker"
            )
        }
        return .dnsName(name.lowercased())
    }

    /// Whether `certificate` names exactly `name` and the loopback names, was signed by `ca`, and is valid for
    /// longer than ``renewBefore``.
    static func serves(_ certificate: Certificate, name: String, ca: Certificate, now: Date) -> Bool {
        guard let wanted = try? alternativeNames(for: name),
            let names = try? certificate.extensions.subjectAlternativeNames,
            Array(names) == wanted,
            certificate.issuer == ca.subject,
            ca.publicKey.isValidSignature(certificate.signature, for: certificate),
            certificate.notValidAfter > now + renewBefore
        else { return false }
        return true
    }
}
