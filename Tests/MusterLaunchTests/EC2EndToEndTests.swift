import Foundation
import MusterBroker
import MusterCore
import MusterLaunch
import NIOHTTP1
import Testing

/// A real broker launching through ``EC2Launcher`` against moto, with each instance emulated on this machine
/// (``InstanceEmulator``): the userdata downloads `muster-agent` from the broker, checks its SHA-256, and the
/// agent learns its address from the emulated metadata service.
extension MotoSuites {
    @Suite("EC2 launcher, end to end")
    struct EC2EndToEndTests {

        /// A provider and a requirer that writes what it learnt about the provider into its root.
        struct Fixture {
            let folder: String
            let scripts: [String: String]

            init() throws {
                folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-ec2-e2e-\(UUID().uuidString)")
                let head = folder + "/head/ctx-scripts"
                let worker = folder + "/worker/ctx-scripts"
                try FileManager.default.createDirectory(atPath: head, withIntermediateDirectories: true)
                try FileManager.default.createDirectory(atPath: worker + "/1-ipandhost", withIntermediateDirectories: true)
                let script = worker + "/1-ipandhost/head"
                try Data("#!/bin/sh\necho \"$1 $3\" > \"$MUSTER_ROOT/learnt-head\"\n".utf8).write(to: URL(fileURLWithPath: script))
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
                scripts = ["head": head, "worker": worker]
            }

            func document(image: String) -> String {
                """
                <cluster xmlns="http://www.globus.org/2008/06/workspace/metadata/logistics">
                  <workspace>
                    <name>head</name><image>\(image)</image><quantity>1</quantity>
                    <nic interface="localnic">private</nic>
                    <ctx><provides><identity/><role>head</role></provides></ctx>
                  </workspace>
                  <workspace>
                    <name>worker</name><image>\(image)</image><quantity>1</quantity>
                    <nic interface="localnic">private</nic>
                    <ctx>
                      <provides><identity/></provides>
                      <requires><identity/><role name="head" hostname="true" pubkey="true"/></requires>
                    </ctx>
                  </workspace>
                </cluster>
                """
            }
        }

        static func instance(
            _ moto: MotoServer,
            context: ContextID,
            node: String,
            states: [String] = ["pending", "running"]
        ) async throws
            -> EC2Instance?
        {
            try await moto.ec2().describeInstances(filters: [
                .init("tag:\(EC2Launcher.Tags.context)", [context.rawValue]),
                .init("tag:\(EC2Launcher.Tags.node)", [node]),
                .init("instance-state-name", states),
            ]).first
        }

        @Test func `over TLS with the broker's own CA pinned, instances fetch the agent and reach ok`() async throws {
            let moto = try await MotoSuites.moto.get()
            let fixture = try Fixture()
            let certificates = try BrokerCertificateAuthority.loadOrCreate(folder: fixture.folder + "/ca", serverName: "127.0.0.1")
            defer { try? FileManager.default.removeItem(atPath: fixture.folder) }
            let image = "muster-e2e-tls-\(UUID().uuidString.prefix(8))"
            _ = try await moto.registerImage(name: image)
            let broker = try await EC2Broker.start(moto: moto, certificates: certificates)
            #expect(broker.url.scheme == "https")
            let created = try await broker.create(fixture.document(image: image))
            let id = created.context.id
            let emulator = try InstanceEmulator(ec2: moto.ec2(), contexts: [id.rawValue], scripts: fixture.scripts)
            await emulator.start()
            do {
                try await eventually("every node is ok over TLS", timeout: .seconds(120)) {
                    let context = try await broker.context(id)
                    if context.nodes.contains(where: { $0.state == .failed }) { throw TestFailure("a node failed: \(context.nodes)") }
                    return context.status.allOk
                }
                let worker = try #require(try await Self.instance(moto, context: id, node: "worker-0"))
                let root = try #require(await emulator.machine(worker.instanceID)).root
                #expect(try String(contentsOfFile: root + "/etc/muster/broker-ca.pem", encoding: .utf8).contains("BEGIN CERTIFICATE"))
            } catch {
                await emulator.stop()
                try await broker.stop()
                throw error
            }
            try await broker.stop()
            await emulator.stop()
        }

        @Test func `a provider and a requirer reach ok on emulated instances, and kill and retry replace the instance`() async throws {
            let moto = try await MotoSuites.moto.get()
            let fixture = try Fixture()
            defer { try? FileManager.default.removeItem(atPath: fixture.folder) }
            let image = "muster-e2e-\(UUID().uuidString.prefix(8))"
            _ = try await moto.registerImage(name: image)
            let broker = try await EC2Broker.start(moto: moto)
            let document = fixture.document(image: image)
            let workspaces = try #require(ClusterDocumentParser.parse(Array(document.utf8)).document).workspaces
            try await broker.launcher.preflight(workspaces: workspaces)
            let created = try await broker.create(document)
            let id = created.context.id
            let emulator = try InstanceEmulator(ec2: moto.ec2(), contexts: [id.rawValue], scripts: fixture.scripts)
            await emulator.start()
            do {
                try await eventually("every node is ok", timeout: .seconds(120)) {
                    let context = try await broker.context(id)
                    if context.nodes.contains(where: { $0.state == .failed }) {
                        var logs = ""
                        for machine in await emulator.all { logs += await emulator.agentLog(machine.instanceID) }
                        throw TestFailure("a node failed: \(context.nodes.map { "\($0.name) \($0.state) \($0.message ?? "")" }) \(logs)")
                    }
                    return context.status.allOk
                }
                // The worker learnt the head's emulated address and host name from the broker.
                let head = try #require(try await Self.instance(moto, context: id, node: "head-0"))
                let worker = try #require(try await Self.instance(moto, context: id, node: "worker-0"))
                let headMachine = try #require(await emulator.machine(head.instanceID))
                let workerMachine = try #require(await emulator.machine(worker.instanceID))
                let learnt = try String(contentsOfFile: workerMachine.root + "/learnt-head", encoding: .utf8)
                #expect(learnt.hasPrefix(headMachine.address + " "))
                #expect(learnt.contains("ec2.internal"))
                #expect(head.tag("Name") == "head-0" && head.tag(EC2Launcher.Tags.workspace) == "head")
                // The userdata file is the node's own, readable by root only, with only its own token.
                let userdataPath = workerMachine.root + "/etc/muster/userdata.json"
                let permissions = try FileManager.default.attributesOfItem(atPath: userdataPath)[.posixPermissions] as? Int
                #expect(permissions == 0o600)
                let userdata = try JSONDecoder().decode(AgentUserdata.self, from: Data(contentsOf: URL(fileURLWithPath: userdataPath)))
                #expect(userdata.node == "worker-0")
                #expect(userdata.generation == 0 && userdata.nics.map(\.label) == ["localnic"] && userdata.root == "/")
                #expect(!(try String(contentsOfFile: headMachine.root + "/etc/muster/userdata.json", encoding: .utf8)).contains(userdata.token))

                // Kill: the instance is terminated in moto.
                let (killed, _) = try await broker.call(.POST, "/v1/contexts/\(id.rawValue)/nodes/worker-0/kill")
                #expect(killed == 200)
                try await eventually("the killed node's instance is terminated") {
                    try await Self.instance(moto, context: id, node: "worker-0", states: ["terminated"])?.instanceID == worker.instanceID
                }
                // Retry: a new instance for the same slot, which reaches ok again.
                let (retried, _) = try await broker.call(.POST, "/v1/contexts/\(id.rawValue)/nodes/worker-0/retry")
                #expect(retried == 200)
                try await eventually("the retried node is ok on a new instance", timeout: .seconds(120)) {
                    let node = try await broker.context(id).nodes.first { $0.name == "worker-0" }
                    return node?.state == .ok && node?.generation == 1
                }
                let replacement = try #require(try await Self.instance(moto, context: id, node: "worker-0"))
                #expect(replacement.instanceID != worker.instanceID)
            } catch {
                await emulator.stop()
                try await broker.stop()
                throw error
            }
            try await broker.stop()
            // The broker's shutdown terminates every instance it launched.
            try await eventually("no instance of the context is left running") {
                try await Self.instance(moto, context: id, node: "head-0") == nil
            }
            await emulator.stop()
        }
    }
}
