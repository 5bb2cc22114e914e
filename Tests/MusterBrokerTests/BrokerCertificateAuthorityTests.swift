import AsyncHTTPClient
import Foundation
import MusterBroker
import MusterCore
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

@Suite("Broker certificate authority")
struct BrokerCertificateAuthorityTests {
    static func folder() -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-ca-\(UUID().uuidString)")
    }

    static func mode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    @Test func `the first start creates the CA and a server certificate, with private keys readable by their owner only`() throws {
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let ca = try BrokerCertificateAuthority.loadOrCreate(folder: folder, serverName: "broker.example.org")
        #expect(ca.issuedServerCertificate)
        #expect(try Self.mode(folder + "/ca-key.pem") == 0o600)
        #expect(try Self.mode(folder + "/server-key.pem") == 0o600)
        #expect(try Self.mode(folder) == 0o700)
        #expect(ca.caCertificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(ca.tlsFiles.certificate == folder + "/server-cert.pem" && ca.tlsFiles.key == folder + "/server-key.pem")
    }

    @Test func `a later start loads the same CA, and reissues the server certificate only when the name changes`() throws {
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try BrokerCertificateAuthority.loadOrCreate(folder: folder, serverName: "127.0.0.1")
        let again = try BrokerCertificateAuthority.loadOrCreate(folder: folder, serverName: "127.0.0.1")
        #expect(!again.issuedServerCertificate)
        #expect(again.caCertificatePEM == first.caCertificatePEM && again.serverCertificatePEM == first.serverCertificatePEM)
        let renamed = try BrokerCertificateAuthority.loadOrCreate(folder: folder, serverName: "broker.internal")
        #expect(renamed.issuedServerCertificate)
        #expect(renamed.caCertificatePEM == first.caCertificatePEM)
        #expect(renamed.serverCertificatePEM != first.serverCertificatePEM)
        #expect(try Self.mode(folder + "/server-key.pem") == 0o600)
        // Close to its end, a server certificate is renewed.
        let later = try BrokerCertificateAuthority.loadOrCreate(folder: folder, serverName: "broker.internal", now: Date() + 380 * 24 * 3600)
        #expect(later.issuedServerCertificate)
    }

    @Test func `a name that is neither an address nor a DNS name is refused`() {
        #expect(throws: CertificateAuthorityError.self) {
            try BrokerCertificateAuthority.loadOrCreate(folder: Self.folder(), serverName: "not a name!")
        }
    }

    @Test func `a client that pins the CA accepts the broker, and one that pins another CA is refused`() async throws {
        let folder = Self.folder()
        let other = Self.folder()
        defer {
            try? FileManager.default.removeItem(atPath: folder)
            try? FileManager.default.removeItem(atPath: other)
        }
        let ca = try BrokerCertificateAuthority.loadOrCreate(folder: folder, serverName: "127.0.0.1")
        let stranger = try BrokerCertificateAuthority.loadOrCreate(folder: other, serverName: "127.0.0.1")
        func client(pinning pem: String) throws -> HTTPClient {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
            return HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        }
        let pinned = try client(pinning: ca.caCertificatePEM)
        let wrong = try client(pinning: stranger.caCertificatePEM)
        let broker = try await TestBroker.start(tls: ca.tlsFiles, http: pinned)
        #expect(broker.url.scheme == "https")
        #expect(try await broker.request(.GET, BrokerRoutes.health, auth: .none).status == 200)
        var request = HTTPClientRequest(url: broker.url.absoluteString + BrokerRoutes.health)
        request.method = .GET
        await #expect(throws: (any Error).self) { _ = try await wrong.execute(request, timeout: .seconds(5)) }
        try await pinned.shutdown()
        try await wrong.shutdown()
        try await broker.stop()
    }
}
