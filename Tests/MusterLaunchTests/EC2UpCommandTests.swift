import Foundation
import MusterCore
import MusterLaunch
import Testing

/// `muster up --launcher ec2` as an operator runs it, against moto with every instance emulated on this machine:
/// the seed's examples boot to all ok on EC2 instances, and every instance is terminated when `muster up` ends —
/// or, after a `kill -9`, by `muster terminate CONTEXT --ec2`.
extension MotoSuites {
    @Suite("muster up --launcher ec2, end to end")
    struct EC2UpCommandTests {
        static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

        /// A working folder with a copy of one example, its images registered as AMIs in moto.
        struct Example {
            let folder: String
            let cluster: String
            let scripts: [String: String]

            init(_ name: String, moto: MotoServer) async throws {
                folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-ec2-up-\(UUID().uuidString.prefix(8))")
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let source = Self.examples.appendingPathComponent(name).path
                try FileManager.default.copyItem(atPath: source, toPath: folder + "/" + name)
                cluster = folder + "/" + name + "/cluster.xml"
                let document = try #require(ClusterDocumentParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: cluster)))).document)
                var scripts: [String: String] = [:]
                for workspace in document.workspaces {
                    // The image's ctx-scripts stand for what a real AMI would carry; the AMI is registered by that name.
                    let image = try ImageFolders(searchPath: [folder + "/" + name + "/images"]).folder(for: workspace.image).get()
                    scripts[workspace.name] = image + "/ctx-scripts"
                    _ = try await moto.registerImage(name: (image as NSString).lastPathComponent)
                }
                self.scripts = scripts
            }

            static let examples = EC2UpCommandTests.repository.appendingPathComponent("Examples")
        }

        static func environment(_ moto: MotoServer) -> [String: String] { MotoServer.environment }

        static func up(_ example: Example, _ moto: MotoServer, _ extra: [String]) throws -> MusterCommand {
            try MusterCommand(
                [
                    "up", example.cluster, "--launcher", "ec2", "--endpoint-url", moto.endpoint, "--region", "us-east-1", "--headless", "--state",
                    "state",
                ]
                    + EC2Broker.agentBinaryArguments + extra,
                environment: environment(moto),
                directory: example.folder
            )
        }

        static func instances(_ moto: MotoServer, context: String, states: [String]) async throws -> [EC2Instance] {
            try await moto.ec2().describeInstances(filters: [
                .init("tag:\(EC2Launcher.Tags.context)", [context]), .init("instance-state-name", states),
            ])
        }

        @Test func `the Torque example reaches all ok on EC2 instances, which are terminated when muster up ends`() async throws {
            let moto = try await MotoSuites.moto.get()
            let example = try await Example("torque", moto: moto)
            defer { try? FileManager.default.removeItem(atPath: example.folder) }
            let up = try Self.up(example, moto, [])
            let context = try await up.contextID()
            let emulator = try InstanceEmulator(ec2: moto.ec2(), contexts: [context], scripts: example.scripts)
            await emulator.start()
            defer { Task { await emulator.stop() } }
            let status = try await up.wait(timeout: .seconds(240))
            #expect(status == 0, "\(up.text)")
            #expect(up.text.contains("complete, all ok, 4/4 ok"), "\(up.text)")
            let tagged = try await Self.instances(moto, context: context, states: ["pending", "running", "shutting-down", "terminated"])
            #expect(tagged.count == 4, "one instance per node")
            #expect(
                Set(tagged.compactMap { $0.tag(EC2Launcher.Tags.node) }) == ["head-node-0", "compute-nodes-0", "compute-nodes-1", "compute-nodes-2"]
            )
            try await eventually("every instance is terminated") {
                try await Self.instances(moto, context: context, states: ["pending", "running"]).isEmpty
            }
            // The machine of each node was reported to the broker, as the status shows.
            let json = try String(contentsOfFile: example.folder + "/state/\(context)/reports/CTX-OK.txt", encoding: .utf8)
            #expect(json.contains("allOk: true"))
        }

        @Test func `after kill -9 of muster up, muster terminate --ec2 finds and terminates the tagged instances`() async throws {
            let moto = try await MotoSuites.moto.get()
            let example = try await Example("cpe", moto: moto)
            defer { try? FileManager.default.removeItem(atPath: example.folder) }
            let up = try Self.up(example, moto, ["--keep"])
            let context = try await up.contextID()
            let emulator = try InstanceEmulator(ec2: moto.ec2(), contexts: [context], scripts: example.scripts)
            await emulator.start()
            defer { Task { await emulator.stop() } }
            try await up.waitFor("complete, all ok, 4/4 ok", timeout: .seconds(240))
            #expect(try await Self.instances(moto, context: context, states: ["running"]).count == 4)
            // `muster status --json` shows each node's machine: the instance moto runs for it.
            let status = try MusterCommand(["status", context, "--json", "--state", "state"], environment: [:], directory: example.folder)
            #expect(try await status.wait() == 0, "\(status.text)")
            let detail = try WireFormat.decoder().decode(ContextDetail.self, from: Data(status.text.utf8))
            let running = try await Self.instances(moto, context: context, states: ["running"])
            for node in detail.context.nodes {
                let instance = running.first { $0.tag(EC2Launcher.Tags.node) == node.name }
                #expect(instance != nil && node.machine?.instanceID == instance?.instanceID, "\(node.name): \(String(describing: node.machine))")
                #expect(node.machine?.instanceType == "t3.micro" && node.machine?.state.isEmpty == false)
            }
            up.signal(SIGKILL)
            _ = try await up.wait()
            #expect(try await Self.instances(moto, context: context, states: ["running"]).count == 4, "a killed muster up terminates nothing")
            let terminate = try MusterCommand(
                ["terminate", context, "--ec2", "--endpoint-url", moto.endpoint, "--region", "us-east-1", "--state", "state"],
                environment: Self.environment(moto),
                directory: example.folder
            )
            #expect(try await terminate.wait() == 0, "\(terminate.text)")
            #expect(terminate.text.contains("EC2 instances terminated: i-"), "\(terminate.text)")
            #expect(terminate.text.contains("not on the broker"), "the broker died with muster up: \(terminate.text)")
            #expect(try await Self.instances(moto, context: context, states: ["pending", "running"]).isEmpty)
        }

        @Test func `a node that never checks in times out at the boot timeout, and its instance is terminated`() async throws {
            let moto = try await MotoSuites.moto.get()
            let example = try await Example("torque", moto: moto)
            defer { try? FileManager.default.removeItem(atPath: example.folder) }
            // No emulator: the instances start (in moto) but no agent ever checks in.
            let up = try Self.up(example, moto, ["--boot-timeout", "3"])
            let context = try await up.contextID()
            let status = try await up.wait(timeout: .seconds(120))
            #expect(status == 1, "\(up.text)")
            #expect(up.text.contains("timed-out (exit 6): did not check in within 3 s of its launch"), "\(up.text)")
            try await eventually("the instances are terminated") {
                try await Self.instances(moto, context: context, states: ["pending", "running"]).isEmpty
            }
        }

        @Test func `when the lease ends every instance is terminated, though muster up --keep goes on`() async throws {
            let moto = try await MotoSuites.moto.get()
            let example = try await Example("cpe", moto: moto)
            defer { try? FileManager.default.removeItem(atPath: example.folder) }
            // A lease of 0.002 hours (7 s): the instances start, and the lease ends during or after the boot.
            let up = try Self.up(example, moto, ["--keep", "--hours", "0.002"])
            let context = try await up.contextID()
            let emulator = try InstanceEmulator(ec2: moto.ec2(), contexts: [context], scripts: example.scripts)
            await emulator.start()
            defer { Task { await emulator.stop() } }
            // Started, in whatever state they are by now: on a busy machine the lease may already have ended.
            try await eventually("the instances are started") {
                try await Self.instances(moto, context: context, states: ["pending", "running", "shutting-down", "terminated"]).count == 4
            }
            try await eventually("every instance is terminated at the end of the lease", timeout: .seconds(120)) {
                try await Self.instances(moto, context: context, states: ["pending", "running"]).isEmpty
            }
            #expect(up.process.isRunning, "with --keep, muster up stays until Ctrl-C: \(up.text)")
            up.signal(SIGINT)
            _ = try await up.wait()
        }

        @Test func `an unknown image stops muster up before anything is launched`() async throws {
            let moto = try await MotoSuites.moto.get()
            let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-ec2-noimage-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let cluster = folder + "/cluster.xml"
            try """
            <cluster><workspace><name>a</name><image>no-such-image-\(UUID().uuidString.prefix(6))</image><quantity>1</quantity>
            <nic>public</nic><ctx><provides><identity/></provides></ctx></workspace></cluster>
            """.write(toFile: cluster, atomically: true, encoding: .utf8)
            let up = try MusterCommand(
                ["up", cluster, "--launcher", "ec2", "--endpoint-url", moto.endpoint, "--region", "us-east-1", "--headless", "--state", "state"],
                environment: Self.environment(moto),
                directory: folder
            )
            #expect(try await up.wait() == 66, "\(up.text)")
            #expect(up.text.contains("workspace 'a': image 'no-such-image-"), "\(up.text)")
            #expect(!FileManager.default.fileExists(atPath: folder + "/state/state.sqlite"), "no broker was started")
        }
    }
}
