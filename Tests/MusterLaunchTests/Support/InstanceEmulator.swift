import Foundation
import HTTPTypes
import Hummingbird
import MusterCore
import MusterLaunch
import MusterSystem
import NIOCore
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Makes the instances moto reports behave like booting EC2 machines, on this machine:
///
/// for each new `pending`/`running` instance it claims a loopback address of its own (127.x.y.z), serves an
/// IMDSv2-style metadata service on it (the instance's userdata from DescribeInstanceAttribute, `local-ipv4`
/// and `public-ipv4` = that address, host names, `ami-launch-index`), makes a temporary root folder (with the
/// image's `ctx-scripts` copied in, as a real image would have them baked in), and runs the instance's userdata
/// script with `MUSTER_INSTANCE_ROOT` and `MUSTER_METADATA_URL` set, in a session of its own; when moto says the
/// instance is shutting down or terminated, it ends that session (the agent and everything it started).
///
/// `PATH` inside instances is `/usr/bin:/bin`, so the userdata fetches `muster-agent` from the broker.
actor InstanceEmulator {
    /// One emulated machine.
    struct Machine: Sendable {
        var instanceID: String
        var address: String
        var root: String
        var metadata: TestHTTPServer
        var session: pid_t?
        var ended = false
    }

    private let ec2: EC2Client
    private let folder: String
    private let addresses: LoopbackAddresses
    /// ctx-scripts folders by workspace name (the `muster:workspace` tag).
    private let scripts: [String: String]
    /// Only instances of these contexts are emulated (other tests share the moto server).
    private let contexts: Set<String>
    private var machines: [String: Machine] = [:]
    private var poller: Task<Void, Never>?
    private var count = 0

    init(ec2: EC2Client, contexts: Set<String>, scripts: [String: String] = [:]) throws {
        self.ec2 = ec2
        self.contexts = contexts
        self.scripts = scripts
        folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-emulator-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addresses = LoopbackAddresses(claimsFolder: (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-loopback-claims"))
    }

    /// Starts watching moto (every second: each look is an `aws` process).
    func start() {
        guard poller == nil else { return }
        poller = Task {
            while !Task.isCancelled {
                await self.poll()
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Stops watching and ends every emulated machine.
    func stop() async {
        poller?.cancel()
        poller = nil
        for id in machines.keys { await end(id) }
        addresses.releaseAll()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The machine emulating an instance, once it exists.
    func machine(_ instanceID: String) -> Machine? { machines[instanceID] }

    /// Every machine emulated so far.
    var all: [Machine] { Array(machines.values) }

    /// The agent's log inside an instance.
    func agentLog(_ instanceID: String) -> String {
        guard let root = machines[instanceID]?.root else { return "" }
        let agent = (try? String(contentsOfFile: root + "/var/log/muster-agent.log", encoding: .utf8)) ?? ""
        let boot = (try? String(contentsOfFile: root + "/var/log/cloud-init-output.log", encoding: .utf8)) ?? ""
        return boot + agent
    }

    private func poll() async {
        guard
            let instances = try? await ec2.describeInstances(filters: [
                .init("tag:\(EC2Launcher.Tags.context)", contexts.sorted())
            ])
        else { return }
        for instance in instances {
            switch instance.state.name {
            case "pending", "running":
                if machines[instance.instanceID] == nil { await boot(instance) }
            case "shutting-down", "terminated", "stopping", "stopped":
                if let machine = machines[instance.instanceID], !machine.ended { await end(instance.instanceID) }
            default:
                break
            }
        }
    }

    private func boot(_ instance: EC2Instance) async {
        let id = instance.instanceID
        do {
            let address = try addresses.address(context: "emulator-\(ObjectIdentifier(self).hashValue)", index: count)
            count += 1
            let root = (folder as NSString).appendingPathComponent(id)
            try FileManager.default.createDirectory(atPath: root + "/var/log", withIntermediateDirectories: true)
            if let workspace = instance.tag(EC2Launcher.Tags.workspace), let source = scripts[workspace] {
                try FileManager.default.copyItem(atPath: source, toPath: root + "/ctx-scripts")
            } else {
                try FileManager.default.createDirectory(atPath: root + "/ctx-scripts", withIntermediateDirectories: true)
            }
            let userdata = try await ec2.userdata(of: id) ?? ""
            let metadata = try await Self.metadataServer(
                address: address,
                userdata: userdata,
                launchIndex: instance.launchIndex ?? 0,
                instanceID: id
            )
            machines[id] = Machine(instanceID: id, address: address, root: root, metadata: metadata)
            let script = root + "/var/lib/cloud/user-data"
            try FileManager.default.createDirectory(atPath: root + "/var/lib/cloud", withIntermediateDirectories: true)
            try Data(userdata.utf8).write(to: URL(fileURLWithPath: script))
            let environment: [Subprocess.Environment.Key: String] = [
                "PATH": "/usr/bin:/bin",
                "HOME": root,
                "MUSTER_INSTANCE_ROOT": root,
                "MUSTER_METADATA_URL": metadata.url + "/latest",
            ]
            Task { await self.run(id, script: script, root: root, environment: environment) }
        } catch {
            FileHandle.standardError.write(Data("instance emulator: cannot boot \(id): \(error)\n".utf8))
        }
    }

    private func run(_ id: String, script: String, root: String, environment: [Subprocess.Environment.Key: String]) async {
        var platform = PlatformOptions()
        platform.createSession = true
        do {
            let log = try FileDescriptor.open(
                FilePath(root + "/var/log/cloud-init-output.log"),
                .writeOnly,
                options: [.create, .append],
                permissions: [.ownerReadWrite]
            )
            let errors = try FileDescriptor.open(
                FilePath(root + "/var/log/cloud-init-output.log"),
                .writeOnly,
                options: [.create, .append],
                permissions: [.ownerReadWrite]
            )
            _ = try await Subprocess.run(
                .path("/bin/sh"),
                arguments: [script],
                environment: .custom(environment),
                workingDirectory: FilePath(root),
                platformOptions: platform,
                input: .none,
                output: .fileDescriptor(log, closeAfterSpawningProcess: true),
                error: .fileDescriptor(errors, closeAfterSpawningProcess: true)
            ) { execution in
                self.started(id, session: execution.processIdentifier.value)
            }
        } catch {
            FileHandle.standardError.write(Data("instance emulator: userdata of \(id) did not run: \(error)\n".utf8))
        }
    }

    private func started(_ id: String, session: pid_t) {
        machines[id]?.session = session
    }

    private func end(_ id: String) async {
        guard var machine = machines[id], !machine.ended else { return }
        machine.ended = true
        machines[id] = machine
        if let session = machine.session { await ProcessSession.terminate(session, grace: .seconds(1)) }
        await machine.metadata.stop()
    }

    /// An IMDSv2-style metadata service for one instance: reads need the token from `PUT /latest/api/token`.
    private static func metadataServer(address: String, userdata: String, launchIndex: Int, instanceID: String) async throws -> TestHTTPServer {
        let token = UUID().uuidString
        let dashed = address.replacingOccurrences(of: ".", with: "-")
        let values = [
            "local-ipv4": address,
            "public-ipv4": address,
            "local-hostname": "ip-\(dashed).ec2.internal",
            "public-hostname": "ec2-\(dashed).compute-1.amazonaws.com",
            "ami-launch-index": "\(launchIndex)",
            "instance-id": instanceID,
        ]
        let router = Router()
        router.put("/latest/api/token") { _, _ in token }
        let tokenHeader = HTTPField.Name("X-aws-ec2-metadata-token")!
        router.get("/latest/user-data") { request, _ -> Response in
            guard request.headers[tokenHeader] == token else { return Response(status: .unauthorized) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: userdata)))
        }
        router.get("/latest/meta-data/:key") { request, context -> Response in
            guard request.headers[tokenHeader] == token else { return Response(status: .unauthorized) }
            guard let key = context.parameters.get("key"), let value = values[key] else { return Response(status: .notFound) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: value)))
        }
        return try await TestHTTPServer.start(router, host: address)
    }
}
