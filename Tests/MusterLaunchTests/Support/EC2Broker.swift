import AsyncHTTPClient
import Foundation
import Logging
import MusterBroker
import MusterCore
import MusterLaunch
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle

/// A real broker on 127.0.0.1 (port 0) that launches through an ``EC2Launcher`` against moto and serves the
/// built `muster-agent` for instances to download.
final class EC2Broker: Sendable {
    let server: BrokerServer
    let url: URL
    let launcher: EC2Launcher
    static let operatorToken = "mst_op_ec2-test-operator"
    private let group: ServiceGroup
    private let runner: Task<Void, any Error>
    private let http: HTTPClient

    /// The folder that holds the built products (`muster-agent` beside the test bundle).
    static let productsFolder: URL = {
        var folder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/" && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("muster-agent").path) {
            folder.deleteLastPathComponent()
        }
        return folder
    }()

    /// A `muster-agent` linked with `--static-swift-stdlib` (`.ci/run` builds one and names it here), served to
    /// the emulated instances instead of the ordinary build when given, so the tests boot what a stock image gets.
    static let staticAgent: String? = ProcessInfo.processInfo.environment["MUSTER_STATIC_AGENT"].flatMap { $0.isEmpty ? nil : $0 }

    /// The `muster` arguments that serve ``staticAgent`` (none without one).
    static var agentBinaryArguments: [String] { staticAgent.map { ["--agent-binary", $0] } ?? [] }

    /// Starts a broker; with `certificates` it serves HTTPS with them and pins their CA in every node's userdata.
    static func start(
        moto: MotoServer,
        certificates: BrokerCertificateAuthority? = nil,
        configure: (inout EC2Launcher.Configuration) -> Void = { _ in }
    ) async throws -> EC2Broker {
        guard FileManager.default.isExecutableFile(atPath: productsFolder.appendingPathComponent("muster-agent").path) else {
            throw TestFailure("muster-agent is not built beside the tests (\(productsFolder.path)): run swift build --build-tests")
        }
        var logger = Logger(label: "ec2-test-broker")
        logger.logLevel = .warning
        let download = try AgentDownload(folder: productsFolder.path, explicit: staticAgent.map { [$0] } ?? [])
        var configuration = EC2Launcher.Configuration(
            aws: moto.options(),
            caCertificatePEM: certificates?.caCertificatePEM,
            agentDownload: EC2Userdata.AgentDownload(sha256: download.sha256),
            scriptTimeoutSeconds: 60,
            pollInterval: .seconds(1),
            maxPollInterval: .seconds(2)
        )
        configure(&configuration)
        let launcher = EC2Launcher(configuration: configuration, logger: logger)
        var brokerConfiguration = BrokerServerConfiguration(host: "127.0.0.1", port: 0, operatorToken: operatorToken, longPollSeconds: 5)
        brokerConfiguration.agentDownload = download
        brokerConfiguration.tls = certificates?.tlsFiles
        let (urls, continuation) = AsyncStream.makeStream(of: URL.self)
        let server = try await BrokerServer(configuration: brokerConfiguration, launcher: launcher, logger: logger) { url in
            continuation.yield(url)
            continuation.finish()
        }
        let group = ServiceGroup(services: [server], logger: logger)
        let runner = Task { try await group.run() }
        var iterator = urls.makeAsyncIterator()
        guard let url = await iterator.next() else { throw TestFailure("the broker did not start") }
        var http = HTTPClient.shared
        if let certificates {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(certificates.caCertificatePEM.utf8)))
            http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        }
        return EC2Broker(server: server, url: url, launcher: launcher, group: group, runner: runner, http: http)
    }

    private init(server: BrokerServer, url: URL, launcher: EC2Launcher, group: ServiceGroup, runner: Task<Void, any Error>, http: HTTPClient) {
        self.http = http
        self.server = server
        self.url = url
        self.launcher = launcher
        self.group = group
        self.runner = runner
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await runner.value
        if http !== HTTPClient.shared { try await http.shutdown() }
    }

    /// An operator call; returns the status and body.
    func call(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url.absoluteString + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(Self.operatorToken)")
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await http.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return (Int(response.status.code), Data(buffer.readableBytesView))
    }

    func create(_ xml: String) async throws -> CreatedContext {
        let (status, body) = try await call(.POST, "/v1/contexts?name=ec2&launch=true", body: xml)
        guard status == 201 else { throw TestFailure("create: \(status) \(String(decoding: body, as: UTF8.self))") }
        return try WireFormat.decoder().decode(CreatedContext.self, from: body)
    }

    func context(_ id: ContextID) async throws -> ContextSnapshot {
        let (status, body) = try await call(.GET, "/v1/contexts/\(id.rawValue)")
        guard status == 200 else { throw TestFailure("detail: \(status) \(String(decoding: body, as: UTF8.self))") }
        return try WireFormat.decoder().decode(ContextDetail.self, from: body).context
    }
}
