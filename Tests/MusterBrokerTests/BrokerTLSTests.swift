import AsyncHTTPClient
import Foundation
import MusterBroker
import MusterCore
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

@Suite("Broker over TLS")
struct BrokerTLSTests {
    /// A throwaway self-signed certificate for 127.0.0.1, made with openssl in a temporary folder.
    static func makeCertificate() throws -> BrokerServerConfiguration.TLSFiles {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let certificate = folder.appendingPathComponent("cert.pem").path
        let key = folder.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw TestFailure("openssl failed with \(openssl.terminationStatus)") }
        return BrokerServerConfiguration.TLSFiles(certificate: certificate, key: key)
    }

    @Test func `the broker serves HTTPS with a given certificate and key`() async throws {
        let files = try Self.makeCertificate()
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(files.certificate))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        let broker = try await TestBroker.start(tls: files, http: client)
        #expect(broker.url.scheme == "https")
        let health = try await broker.request(.GET, BrokerRoutes.health, auth: .none)
        #expect(health.status == 200)
        let created = try await broker.create(BrokerAPITests.cpe)
        #expect(created.context.nodes.count == 3)
        // A client that does not trust the certificate is refused.
        var request = HTTPClientRequest(url: broker.url.absoluteString + BrokerRoutes.health)
        request.method = .GET
        await #expect(throws: (any Error).self) { _ = try await HTTPClient.shared.execute(request, timeout: .seconds(1)) }
        try await client.shutdown()
        try await broker.stop()
    }
}
