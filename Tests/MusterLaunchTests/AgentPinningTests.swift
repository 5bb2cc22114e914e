import Foundation
import Logging
import MusterBroker
import MusterClient
import MusterCore
import ServiceLifecycle
import Testing

/// What an agent's pinned CA (from its userdata) means on the wire, with the client library agents use.
@Suite("A pinned broker CA")
struct AgentPinningTests {
    static func folder() -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-pin-\(UUID().uuidString.prefix(8))")
    }

    /// Calls `/v1/healthz` through ``BrokerConnection`` pinning `pem`.
    static func health(_ url: URL, pinning pem: String) async throws -> HealthStatus {
        var configuration = try BrokerConfiguration(
            url: url.absoluteString,
            timeouts: .init(connect: .seconds(30), request: .seconds(30)),
            retry: .never
        )
        configuration.tls.caCertificatePEM = pem
        var logger = Logger(label: "pin-test")
        logger.logLevel = .critical
        let connection = try BrokerConnection(configuration: configuration, logger: logger)
        do {
            let status = try await connection.health()
            try await connection.shutdown()
            return status
        } catch {
            try? await connection.shutdown()
            throw error
        }
    }

    @Test func `the client accepts the broker of the pinned CA, and refuses one whose certificate chains to another CA`() async throws {
        let (ours, theirs) = (Self.folder(), Self.folder())
        defer {
            try? FileManager.default.removeItem(atPath: ours)
            try? FileManager.default.removeItem(atPath: theirs)
        }
        let authority = try BrokerCertificateAuthority.loadOrCreate(folder: ours, serverName: "127.0.0.1")
        let stranger = try BrokerCertificateAuthority.loadOrCreate(folder: theirs, serverName: "127.0.0.1")
        var logger = Logger(label: "pin-broker")
        logger.logLevel = .critical
        var configuration = BrokerServerConfiguration(host: "127.0.0.1", port: 0, operatorToken: "mst_op_pin-test", longPollSeconds: 5)
        configuration.tls = authority.tlsFiles
        let (urls, continuation) = AsyncStream.makeStream(of: URL.self)
        let server = try await BrokerServer(configuration: configuration, logger: logger) { url in
            continuation.yield(url)
            continuation.finish()
        }
        let group = ServiceGroup(services: [server], logger: logger)
        let runner = Task { try await group.run() }
        defer { runner.cancel() }
        var iterator = urls.makeAsyncIterator()
        let url = try #require(await iterator.next())
        #expect(url.scheme == "https")

        #expect(try await Self.health(url, pinning: authority.caCertificatePEM).status == "ok")
        await #expect {
            _ = try await Self.health(url, pinning: stranger.caCertificatePEM)
        } throws: { error in
            (error as? BrokerClientError)?.code == .tls || (error as? BrokerClientError)?.code == .cannotConnect
        }
        await group.triggerGracefulShutdown()
        _ = try? await runner.value
    }
}
