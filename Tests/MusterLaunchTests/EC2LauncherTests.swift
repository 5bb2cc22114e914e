import Foundation
import Logging
import MusterCore
import MusterLaunch
import Testing

/// Records every launch report, machine details included.
actor MachineRecorder: LaunchReporter {
    enum Report: Hashable {
        case booted(String, Int)
        case failed(String, Int, String)
        case exited(String, Int)
    }

    private(set) var reports: [Report] = []
    private(set) var machines: [String: [MachineDetails]] = [:]

    func booted(context: ContextID, node: String, generation: Int) { reports.append(.booted(node, generation)) }
    func launchFailed(context: ContextID, node: String, generation: Int, message: String) { reports.append(.failed(node, generation, message)) }
    func agentExited(context: ContextID, node: String, generation: Int, status: Int32, message: String) { reports.append(.exited(node, generation)) }
    func machine(context: ContextID, node: String, generation: Int, details: MachineDetails) { machines[node, default: []].append(details) }
}

extension MotoSuites {
    @Suite("EC2 launcher against moto")
    struct EC2LauncherTests {

        static func launcher(_ moto: MotoServer, _ configure: (inout EC2Launcher.Configuration) -> Void = { _ in }) -> EC2Launcher {
            var configuration = EC2Launcher.Configuration(
                aws: moto.options(),
                agentDownload: .init(sha256: ["x86_64": String(repeating: "ab", count: 32)]),
                pollInterval: .milliseconds(500),
                maxPollInterval: .seconds(1)
            )
            configure(&configuration)
            var logger = Logger(label: "ec2-launcher-test")
            logger.logLevel = .critical
            return EC2Launcher(configuration: configuration, logger: logger)
        }

        static func workspace(_ name: String, image: String) -> WorkspaceSpec {
            let document = """
                <cluster><workspace><name>\(name)</name><image>\(image)</image><quantity>1</quantity><nic>public</nic>
                <ctx><provides><identity/></provides></ctx></workspace></cluster>
                """
            return ClusterDocumentParser.parse(Array(document.utf8)).document!.workspaces[0]
        }

        static func request(
            context: ContextID,
            node: String = "head-0",
            workspace: String = "head",
            image: String,
            generation: Int = 0
        ) -> LaunchRequest {
            LaunchRequest(
                context: context,
                contextName: "test",
                node: node,
                workspace: workspace,
                image: image,
                nics: [NICSpec(network: "public")],
                generation: generation,
                token: "mst_node_\(node)-\(generation)",
                brokerURL: "http://127.0.0.1:1"
            )
        }

        @Test func `preflight resolves an AMI name to the newest image of that name`() async throws {
            let moto = try await MotoSuites.moto.get()
            let name = "muster-newest-\(UUID().uuidString.prefix(8))"
            let older = try await moto.registerImage(name: name)
            try await Task.sleep(for: .milliseconds(1100))
            let newer = try await moto.registerImage(name: name)
            #expect(older != newer)
            let resolved = try await Self.launcher(moto).preflight(workspaces: [Self.workspace("head", image: name + ".gz")])
            #expect(resolved[name + ".gz"] == newer)
        }

        @Test func `preflight checks an AMI id, and names the workspace and image it cannot find`() async throws {
            let moto = try await MotoSuites.moto.get()
            let known = try await moto.registerImage(name: "muster-known-\(UUID().uuidString.prefix(8))")
            let launcher = Self.launcher(moto)
            #expect(try await launcher.preflight(workspaces: [Self.workspace("head", image: known)])[known] == known)
            do {
                try await launcher.preflight(workspaces: [Self.workspace("head", image: known), Self.workspace("db", image: "ami-0123456789abcdef0")])
                Issue.record("an unknown AMI passed preflight")
            } catch {
                #expect(error.code == .imageNotFound)
                #expect(error.message.contains("workspace 'db'") && error.message.contains("ami-0123456789abcdef0"))
            }
            do {
                try await launcher.preflight(workspaces: [Self.workspace("web", image: "no-such-image-\(UUID().uuidString)")])
                Issue.record("an unknown AMI name passed preflight")
            } catch {
                #expect(error.code == .imageNotFound)
                #expect(error.message.contains("workspace 'web'"))
            }
        }

        @Test func `a node is one tagged instance with its own userdata; it boots, and stop terminates it`() async throws {
            let moto = try await MotoSuites.moto.get()
            let image = try await moto.registerImage(name: "muster-launch-\(UUID().uuidString.prefix(8))")
            let context = ContextID("ec2-launch-\(UUID().uuidString.prefix(8))")
            let launcher = Self.launcher(moto) { $0.instanceTypes = ["db": "m5.large"] }
            let reporter = MachineRecorder()
            await launcher.launch(Self.request(context: context, image: image), reporter: reporter)
            await launcher.launch(Self.request(context: context, node: "db-0", workspace: "db", image: image), reporter: reporter)
            try await eventually("both nodes booted") { await reporter.reports.count == 2 }
            #expect(Set(await reporter.reports) == [.booted("head-0", 0), .booted("db-0", 0)])
            let id = try #require(await launcher.instance(context: context, node: "head-0"))
            let details = try #require(await reporter.machines["head-0"])
            #expect(details.first?.instanceID == id && details.first?.state == "pending")
            #expect(details.last?.instanceID == id && details.last?.state == "running")
            #expect(details.last?.instanceType == "t3.micro" && details.last?.zone?.hasPrefix("us-east-1") == true, "\(details)")
            #expect(await reporter.machines["db-0"]?.last?.instanceType == "m5.large", "a workspace's own instance type")
            let instances = try await moto.ec2().describeInstances(filters: [.init("tag:muster:context", [context.rawValue])])
            #expect(instances.count == 2)
            let head = try #require(instances.first { $0.instanceID == id })
            #expect(head.tag("muster:node") == "head-0" && head.tag("muster:workspace") == "head" && head.tag("Name") == "head-0")
            #expect(head.imageID == image)
            let userdata = try #require(try await moto.ec2().userdata(of: id))
            #expect(userdata.hasPrefix("#!/bin/sh\n"))
            #expect(userdata.contains("mst_node_head-0-0") && !userdata.contains("mst_node_db-0-0"))
            await launcher.stop(context: context, node: "head-0")
            let after = try await moto.ec2().describeInstances(filters: [.init("instance-id", [id])])
            #expect(["shutting-down", "terminated"].contains(after.first?.state.name ?? ""))
            await launcher.stopAll()
            let left = try await moto.ec2().describeInstances(filters: [
                .init("tag:muster:context", [context.rawValue]), .init("instance-state-name", ["pending", "running"]),
            ])
            #expect(left.isEmpty)
        }

        @Test func `a retry replaces the slot's instance with a new one holding the new token`() async throws {
            let moto = try await MotoSuites.moto.get()
            let image = try await moto.registerImage(name: "muster-retry-\(UUID().uuidString.prefix(8))")
            let context = ContextID("ec2-retry-\(UUID().uuidString.prefix(8))")
            let launcher = Self.launcher(moto)
            let reporter = MachineRecorder()
            await launcher.launch(Self.request(context: context, image: image), reporter: reporter)
            let first = try #require(await launcher.instance(context: context, node: "head-0"))
            await launcher.launch(Self.request(context: context, image: image, generation: 1), reporter: reporter)
            let second = try #require(await launcher.instance(context: context, node: "head-0"))
            #expect(first != second)
            let old = try await moto.ec2().describeInstances(filters: [.init("instance-id", [first])])
            #expect(["shutting-down", "terminated"].contains(old.first?.state.name ?? ""))
            #expect(try await moto.ec2().userdata(of: second)?.contains("mst_node_head-0-1") == true)
            try await eventually("the new generation booted") { await reporter.reports.contains(.booted("head-0", 1)) }
            await launcher.stopAll()
        }

        @Test func `terminate(context:) terminates the context's tagged instances, whoever started them`() async throws {
            let moto = try await MotoSuites.moto.get()
            let image = try await moto.registerImage(name: "muster-orphans-\(UUID().uuidString.prefix(8))")
            let context = ContextID("ec2-orphans-\(UUID().uuidString.prefix(8))")
            let other = ContextID("ec2-other-\(UUID().uuidString.prefix(8))")
            let ec2 = moto.ec2()
            func start(_ context: ContextID, _ node: String) async throws -> String {
                try await ec2.runInstance(
                    .init(
                        imageID: image,
                        instanceType: "t3.micro",
                        userdata: "#!/bin/sh\n",
                        tags: [.init(key: "muster:context", value: context.rawValue)]
                    )
                ).instanceID
            }
            let orphans = [try await start(context, "a-0"), try await start(context, "b-0")]
            let bystander = try await start(other, "a-0")
            let terminated = try await EC2Launcher.terminate(context: context, aws: moto.aws())
            #expect(Set(terminated) == Set(orphans))
            let states = Dictionary(
                uniqueKeysWithValues: try await ec2.describeInstances(filters: [.init("instance-id", orphans + [bystander])]).map {
                    ($0.instanceID, $0.state.name)
                }
            )
            for id in orphans { #expect(["shutting-down", "terminated"].contains(states[id] ?? "")) }
            #expect(states[bystander] == "running" || states[bystander] == "pending")
            #expect(try await EC2Launcher.terminate(context: context, aws: moto.aws()).isEmpty)
            try await ec2.terminateInstances([bystander])
        }

        @Test func `a launch whose image cannot be found is reported as a launch failure`() async throws {
            let moto = try await MotoSuites.moto.get()
            let launcher = Self.launcher(moto)
            let reporter = MachineRecorder()
            await launcher.launch(Self.request(context: "ec2-missing", image: "no-such-image-\(UUID().uuidString)"), reporter: reporter)
            let reports = await reporter.reports
            #expect(reports.count == 1)
            guard case .failed(let node, 0, let message) = reports.first else {
                Issue.record("expected a launch failure, got \(reports)")
                return
            }
            #expect(node == "head-0" && message.contains("image-not-found"))
        }
    }
}
