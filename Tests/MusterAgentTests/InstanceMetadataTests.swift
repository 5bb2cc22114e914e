import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MusterAgent
import MusterCore
import NIOCore
import Synchronization
import Testing

/// The calls a test metadata service saw.
final class Calls: Sendable {
    private let list = Mutex<[String]>([])
    func append(_ call: String) { list.withLock { $0.append(call) } }
    var all: [String] { list.withLock { $0 } }
}

@Suite("Instance metadata")
struct InstanceMetadataTests {
    /// A tiny metadata service on 127.0.0.1; with `v2` its reads need the token from `PUT /latest/api/token`.
    static func withMetadata<T: Sendable>(
        v2: Bool,
        values: [String: String],
        userdata: String?,
        _ body: @Sendable (String, Calls) async throws -> T
    ) async throws -> T {
        let seen = Calls()
        let token = "token-\(UUID().uuidString)"
        let header = HTTPField.Name("X-aws-ec2-metadata-token")!
        let router = Router()
        router.put("/latest/api/token") { request, _ -> Response in
            seen.append("PUT token")
            guard v2, request.headers[HTTPField.Name("X-aws-ec2-metadata-token-ttl-seconds")!] != nil else { return Response(status: .forbidden) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: token)))
        }
        router.get("/latest/user-data") { request, _ -> Response in
            seen.append("GET user-data \(request.headers[header] ?? "-")")
            if v2 && request.headers[header] != token { return Response(status: .unauthorized) }
            guard let userdata else { return Response(status: .notFound) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: userdata)))
        }
        router.get("/latest/meta-data/:key") { request, context -> Response in
            if v2 && request.headers[header] != token { return Response(status: .unauthorized) }
            guard let value = context.parameters.get("key").flatMap({ values[$0] }) else { return Response(status: .notFound) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: value + "\n")))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "metadata")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            return try await body("http://127.0.0.1:\(port)/latest", seen)
        }
    }

    static let ec2 = [
        "local-ipv4": "10.0.0.7",
        "public-ipv4": "54.1.2.3",
        "local-hostname": "ip-10-0-0-7.ec2.internal",
        "public-hostname": "ec2-54-1-2-3.compute-1.amazonaws.com",
        "ami-launch-index": "2",
    ]

    @Test func `IMDSv2: a session token is fetched once and sent with every read`() async throws {
        try await Self.withMetadata(v2: true, values: Self.ec2, userdata: "{\"version\":1}") { base, seen in
            // A token that comes late (a machine busy with the other suites) is still the one token.
            let metadata = InstanceMetadata(base: base, tokenTimeout: .seconds(60))
            let userdata = try await metadata.userdata()
            let index = try await metadata.launchIndex()
            #expect(userdata == Data("{\"version\":1}".utf8))
            #expect(index == 2)
            let network = try await metadata.network()
            #expect(
                network
                    == .init(
                        localIPv4: "10.0.0.7",
                        publicIPv4: "54.1.2.3",
                        localHostname: "ip-10-0-0-7.ec2.internal",
                        publicHostname: "ec2-54-1-2-3.compute-1.amazonaws.com"
                    )
            )
            let calls = seen.all
            #expect(calls.filter { $0 == "PUT token" }.count == 1)
            #expect(calls.contains { $0.hasPrefix("GET user-data token-") })
        }
    }

    @Test func `IMDSv1: without a token the reads go without one`() async throws {
        try await Self.withMetadata(v2: false, values: ["local-ipv4": "10.0.0.9"], userdata: nil) { base, seen in
            let metadata = InstanceMetadata(base: base + "/")
            let userdata = try await metadata.userdata()
            let network = try await metadata.network()
            #expect(userdata == nil)
            #expect(network == .init(localIPv4: "10.0.0.9"))
            #expect(seen.all.contains("GET user-data -"))
        }
    }

    @Test func `a service that does not answer is an environment error, after a few tries`() async throws {
        let metadata = InstanceMetadata(base: "http://127.0.0.1:9/latest", attempts: 2)
        do {
            _ = try await metadata.userdata()
            Issue.record("read from a closed port")
        } catch {
            #expect(error.code == NodeExitCode.environment)
        }
    }

    @Test func `one NIC is localnic or publicnic by the metadata address it carries; two are both`() {
        let network = InstanceMetadata.Network(
            localIPv4: "10.0.0.7",
            publicIPv4: "54.1.2.3",
            localHostname: "ip-10-0-0-7.ec2.internal",
            publicHostname: "ec2-54-1-2-3.compute-1.amazonaws.com"
        )
        // EC2: the machine's one NIC carries the private address.
        #expect(
            MetadataIdentities.identities(network: network, machineAddresses: ["10.0.0.7"], hints: [], fallbackHostname: nil, pubkey: "k")
                == [Identity(interface: "localnic", ip: "10.0.0.7", hostname: "ip-10-0-0-7.ec2.internal", pubkey: "k")]
        )
        #expect(
            MetadataIdentities.identities(network: network, machineAddresses: ["54.1.2.3"], hints: [], fallbackHostname: nil, pubkey: "k")?.map(
                \.interface
            )
                == ["publicnic"]
        )
        #expect(
            MetadataIdentities.identities(
                network: network,
                machineAddresses: ["10.0.0.7", "54.1.2.3"],
                hints: [],
                fallbackHostname: nil,
                pubkey: "k"
            )?
            .map(\.interface) == ["localnic", "publicnic"]
        )
        // No machine address in the metadata (NAT, emulation): the metadata's distinct addresses are the NICs.
        #expect(
            MetadataIdentities.identities(network: network, machineAddresses: [], hints: [], fallbackHostname: nil, pubkey: "k")?.map(\.ip)
                == ["10.0.0.7", "54.1.2.3"]
        )
        let same = InstanceMetadata.Network(localIPv4: "127.8.9.1", publicIPv4: "127.8.9.1", localHostname: "a.internal", publicHostname: "a.public")
        #expect(
            MetadataIdentities.identities(network: same, machineAddresses: [], hints: [], fallbackHostname: nil, pubkey: "k")
                == [Identity(interface: "localnic", ip: "127.8.9.1", hostname: "a.internal", pubkey: "k")]
        )
        #expect(MetadataIdentities.identities(network: .init(), machineAddresses: [], hints: [], fallbackHostname: nil, pubkey: "k") == nil)
    }

    @Test func `NICs the launcher named take the address their label asks for`() {
        let network = InstanceMetadata.Network(
            localIPv4: "10.0.0.7",
            publicIPv4: "54.1.2.3",
            localHostname: "l.internal",
            publicHostname: "p.example"
        )
        let identities = MetadataIdentities.identities(
            network: network,
            machineAddresses: ["10.0.0.7"],
            hints: [.init(label: "public"), .init(label: "private")],
            fallbackHostname: nil,
            pubkey: "k"
        )
        #expect(identities?.map { "\($0.interface)=\($0.ip),\($0.hostname)" } == ["public=54.1.2.3,p.example", "private=10.0.0.7,l.internal"])
        let single = MetadataIdentities.identities(
            network: network,
            machineAddresses: ["10.0.0.7"],
            hints: [.init(label: "eth0")],
            fallbackHostname: nil,
            pubkey: "k"
        )
        #expect(single?.map(\.ip) == ["10.0.0.7"])
    }
}
