import Foundation
import Logging
import MusterClient
import MusterCore
import MusterSystem
import Testing

/// A TLS server with a throwaway self-signed certificate for 127.0.0.1: `openssl s_server -www`, which answers
/// any `GET` with an HTML status page. A call that gets that page (and fails to decode it) got through the TLS
/// handshake; one that does not trust the certificate fails before.
private struct OpenSSLServer {
    let process: Process
    let port: Int
    let certificate: String
    let folder: URL

    static let openssl = "/usr/bin/openssl"

    static func start() throws -> OpenSSLServer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-client-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let certificate = folder.appendingPathComponent("cert.pem").path
        let key = folder.appendingPathComponent("key.pem").path
        try run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = ["s_server", "-accept", "127.0.0.1:0", "-cert", certificate, "-key", key, "-www"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // s_server prints `ACCEPT 127.0.0.1:PORT` once it listens.
        var text = ""
        func acceptLine() -> Substring? {
            text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().first { $0.hasPrefix("ACCEPT") }
        }
        while acceptLine() == nil {
            guard let data = try? output.fileHandleForReading.readChunk(), !data.isEmpty else { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let line = acceptLine(), let colon = line.lastIndex(of: ":"),
            let port = Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: folder)
            throw TestFailure("openssl s_server did not say where it listens: \(text)")
        }
        return OpenSSLServer(process: process, port: port, certificate: certificate, folder: folder)
    }

    /// Ends the server (with SIGKILL: s_server does not always stop on SIGTERM while it waits for a connection).
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }

    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("openssl \(arguments[0]) failed with \(process.terminationStatus)") }
    }
}

@Suite("TLS trust", .enabled(if: FileManager.default.isExecutableFile(atPath: OpenSSLServer.openssl)))
struct TLSTests {
    private func health(port: Int, tls: BrokerConfiguration.TLSOptions) async throws -> BrokerClientError {
        let configuration = try BrokerConfiguration(url: "https://127.0.0.1:\(port)", retry: .never, tls: tls)
        let connection = try BrokerConnection(configuration: configuration, logger: Logger(label: "muster-client-test"))
        let result: Result<HealthStatus, any Error>
        do {
            result = .success(try await connection.health())
        } catch {
            result = .failure(error)
        }
        try await connection.shutdown()
        return try #require(throws: BrokerClientError.self) { try result.get() }
    }

    @Test("a broker with a self-signed certificate is reached when its certificate is trusted, by file or by PEM")
    func trustedCertificate() async throws {
        let server = try OpenSSLServer.start()
        defer { server.stop() }
        let byFile = try await health(port: server.port, tls: .init(caCertificateFile: server.certificate))
        #expect(byFile.code == .decoding, "the TLS handshake succeeded; only the HTML page is not a health status")
        let pem = try String(contentsOfFile: server.certificate, encoding: .utf8)
        let byPEM = try await health(port: server.port, tls: .init(caCertificatePEM: pem))
        #expect(byPEM.code == .decoding)
    }

    @Test("a broker whose certificate is not trusted is refused with a TLS error that says what to do")
    func untrustedCertificate() async throws {
        let server = try OpenSSLServer.start()
        defer { server.stop() }
        let error = try await health(port: server.port, tls: .init())
        #expect(error.code == .tls)
        #expect(error.message.contains("TLS handshake failed"))
        #expect(!error.isTransient)
    }

    @Test("PEM text without a certificate is a configuration error")
    func badPEM() throws {
        var configuration = try BrokerConfiguration(url: "https://127.0.0.1:7077")
        configuration.tls.caCertificatePEM = "not a certificate"
        #expect {
            _ = try BrokerConnection(configuration: configuration, logger: Logger(label: "muster-client-test"))
        } throws: { error in
            (error as? BrokerClientError)?.code == .invalidConfiguration
        }
    }
}
