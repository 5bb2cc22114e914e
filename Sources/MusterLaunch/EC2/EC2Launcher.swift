import Foundation
import Logging
import MusterCore

/// Starts each node as its own EC2 instance, through the AWS CLI and the user's credential chain.
///
/// One `run-instances --count 1` per node, each with its own userdata (``EC2Userdata``) holding only that
/// node's token, so an instance can act only as itself; a retry is a new instance for the same slot with the
/// fresh token the broker minted. Instances are tagged `muster:context`, `muster:node`, `muster:workspace`
/// and `Name=<node>`, and terminate themselves when shut down from inside. At most
/// ``Configuration/maxConcurrentCalls`` AWS calls run at once; one watcher polls every booting instance in a
/// single `describe-instances` call, with backoff, and reports `booted` when EC2 says `running`.
///
/// Call ``preflight(workspaces:)`` before creating a context: it resolves every workspace's image (an `ami-…`
/// id is checked, a name is looked up, the newest image of that name wins) and fails naming the workspace and
/// image when one is unknown, before anything is started.
public actor EC2Launcher: NodeLauncher {
    /// What instances are started with.
    public struct Configuration: Sendable {
        /// How to call AWS (region, profile, endpoint, time limits).
        public var aws: AWSCommandLine.Options
        /// The instance type for workspaces not in ``instanceTypes``.
        public var instanceType: String
        /// Instance types by workspace name.
        public var instanceTypes: [String: String]
        /// The key pair to log in with, if any.
        public var keyName: String?
        /// The subnet, if any (the account's default VPC otherwise).
        public var subnet: String?
        /// Security group ids (the VPC's default group otherwise).
        public var securityGroups: [String]
        /// Image owners to look AMI names up among (`self`, `amazon`, account ids); every visible image when empty.
        public var imageOwners: [String]
        /// The broker's CA certificate, pinned in each node's userdata (a broker with its own CA).
        public var caCertificatePEM: String?
        /// The agent download the broker offers, for images without `muster-agent`.
        public var agentDownload: EC2Userdata.AgentDownload?
        /// The longest one ctx-script may run, passed to agents.
        public var scriptTimeoutSeconds: Int?
        /// At most this many AWS calls at once.
        public var maxConcurrentCalls: Int
        /// The longest an instance may take from `run-instances` to `running`.
        public var bootTimeout: Duration
        /// The first wait between two looks at booting instances; it grows to ``maxPollInterval``.
        public var pollInterval: Duration
        /// The longest wait between two looks.
        public var maxPollInterval: Duration

        /// Creates a configuration.
        public init(
            aws: AWSCommandLine.Options = .init(),
            instanceType: String = "t3.micro",
            instanceTypes: [String: String] = [:],
            keyName: String? = nil,
            subnet: String? = nil,
            securityGroups: [String] = [],
            imageOwners: [String] = [],
            caCertificatePEM: String? = nil,
            agentDownload: EC2Userdata.AgentDownload? = nil,
            scriptTimeoutSeconds: Int? = nil,
            maxConcurrentCalls: Int = 8,
            bootTimeout: Duration = .seconds(600),
            pollInterval: Duration = .seconds(2),
            maxPollInterval: Duration = .seconds(15)
        ) {
            self.aws = aws
            self.instanceType = instanceType
            self.instanceTypes = instanceTypes
            self.keyName = keyName
            self.subnet = subnet
            self.securityGroups = securityGroups
            self.imageOwners = imageOwners
            self.caCertificatePEM = caCertificatePEM
            self.agentDownload = agentDownload
            self.scriptTimeoutSeconds = scriptTimeoutSeconds
            self.maxConcurrentCalls = maxConcurrentCalls
            self.bootTimeout = bootTimeout
            self.pollInterval = pollInterval
            self.maxPollInterval = maxPollInterval
        }
    }

    /// The tag keys Muster puts on instances.
    public enum Tags {
        /// The context id.
        public static let context = "muster:context"
        /// The node name.
        public static let node = "muster:node"
        /// The workspace name.
        public static let workspace = "muster:workspace"
    }

    private struct Slot {
        var context: ContextID
        var node: String
        var lifecycle: EC2NodeLifecycle
        var reporter: any LaunchReporter
    }

    private let configuration: Configuration
    private let ec2: EC2Client
    private let limiter: CallLimiter
    private let logger: Logger
    private let clock = ContinuousClock()
    /// Each node's current instance, by `context/node`.
    private var slots: [String: Slot] = [:]
    /// Every instance this launcher started and has not seen terminated.
    private var launched: Set<String> = []
    /// Resolved AMI ids by image text.
    private var images: [String: String] = [:]
    private var watcher: Task<Void, Never>?
    /// Set when something new started booting, so the watcher looks soon again.
    private var watchWakeUp = false
    /// `run-instances` calls not yet answered: ``stopAll()`` waits for them, so no instance outlives the launcher.
    private var launchesInFlight = 0
    private var launchesSettled: [CheckedContinuation<Void, Never>] = []
    /// Set by ``stopAll()``: an instance whose launch is answered after it is terminated at once.
    private var closed = false

    /// Creates a launcher.
    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.ec2 = EC2Client(aws: AWSCommandLine(options: configuration.aws, logger: logger))
        self.limiter = CallLimiter(limit: configuration.maxConcurrentCalls)
        self.logger = logger
    }

    private func key(_ context: ContextID, _ node: String) -> String { "\(context.rawValue)/\(node)" }

    // MARK: Preflight

    /// Resolves every workspace's image to an AMI id before anything is launched; throws an ``AWSError`` with
    /// code ``AWSError/Code/imageNotFound`` naming the workspace and its image when one is unknown, and fails
    /// the same way for a per-workspace instance type given for a workspace the document does not have.
    ///
    /// - Returns: the AMI id of each image text.
    @discardableResult
    public func preflight(workspaces: [WorkspaceSpec]) async throws(AWSError) -> [String: String] {
        let names = Set(workspaces.map(\.name))
        if let unknown = configuration.instanceTypes.keys.sorted().first(where: { !names.contains($0) }) {
            throw AWSError(.failed, message: "an instance type is given for workspace '\(unknown)', which the document does not have")
        }
        for workspace in workspaces where images[workspace.image] == nil {
            images[workspace.image] = try await resolve(image: workspace.image, workspace: workspace.name)
        }
        return images.filter { entry in workspaces.contains { $0.image == entry.key } }
    }

    private func resolve(image: String, workspace: String) async throws(AWSError) -> String {
        let found: [EC2Image]
        if image.hasPrefix("ami-") {
            do {
                found = try await limiter.run { () async throws(AWSError) -> [EC2Image] in try await ec2.describeImages(ids: [image]) }
            } catch  where error.awsCode?.hasPrefix("InvalidAMIID") == true {
                found = []
            }
        } else {
            let candidates = ImageFolders.candidateNames(for: image)
            let owners = configuration.imageOwners
            let all = try await limiter.run { () async throws(AWSError) -> [EC2Image] in
                try await ec2.describeImages(names: candidates, owners: owners)
            }
            // The first candidate name that has images wins; among its images, the newest.
            let name = candidates.first { candidate in all.contains { $0.name == candidate } }
            found = all.filter { $0.name == name }.sorted { ($0.creationDate ?? "") > ($1.creationDate ?? "") }
        }
        guard let ami = found.first?.imageID else {
            let what = image.hasPrefix("ami-") ? "AMI \(image)" : "an AMI named \(ImageFolders.candidateNames(for: image).joined(separator: " or "))"
            let region = configuration.aws.region.map { " in \($0)" } ?? ""
            throw AWSError(
                .imageNotFound,
                message: "workspace '\(workspace)': image '\(image)' not found: no \(what)\(region) that this account can launch"
            )
        }
        return ami
    }

    // MARK: NodeLauncher

    public nonisolated var name: String { "ec2" }

    public func launch(_ request: LaunchRequest, reporter: any LaunchReporter) async {
        let key = key(request.context, request.node)
        if var previous = slots[key] {
            // A retry replaces whatever is left of the previous generation.
            if case .terminate(let id) = previous.lifecycle.stop() { await terminate([id]) }
            slots[key] = nil
        }
        slots[key] = Slot(
            context: request.context,
            node: request.node,
            lifecycle: EC2NodeLifecycle(generation: request.generation),
            reporter: reporter
        )
        guard !closed else { return }
        launchesInFlight += 1
        defer { launchSettled() }
        let instance: EC2Instance
        do {
            let spec = try await instanceSpec(for: request)
            instance = try await limiter.run { () async throws(AWSError) -> EC2Instance in try await ec2.runInstance(spec) }
        } catch {
            guard slots[key]?.lifecycle.generation == request.generation, slots[key]?.lifecycle.creationFailed() == true else { return }
            logger.warning("launch failed", metadata: ["node": "\(key)", "error": "\(error)"])
            await reporter.launchFailed(context: request.context, node: request.node, generation: request.generation, message: "\(error)")
            return
        }
        launched.insert(instance.instanceID)
        logger.info("instance started", metadata: ["node": "\(key)", "instance": "\(instance.instanceID)"])
        guard !closed, slots[key]?.lifecycle.generation == request.generation,
            let action = slots[key]?.lifecycle.created(instanceID: instance.instanceID, at: clock.now)
        else {
            await terminate([instance.instanceID])
            return
        }
        await reporter.machine(context: request.context, node: request.node, generation: request.generation, details: Self.details(instance))
        switch action {
        case .watch:
            watchWakeUp = true
            if watcher == nil { watcher = Task { await self.watch() } }
        case .terminate(let id):
            await terminate([id])
        }
    }

    public func stop(context: ContextID, node: String) async {
        let key = key(context, node)
        guard case .terminate(let id) = slots[key]?.lifecycle.stop() else { return }
        await terminate([id])
    }

    public func stopAll() async {
        closed = true
        // A launch still waiting for EC2's answer terminates its instance when the answer comes (it sees `closed`).
        while launchesInFlight > 0 {
            await withCheckedContinuation { launchesSettled.append($0) }
        }
        var ids: [String] = []
        for key in slots.keys {
            if case .terminate(let id) = slots[key]?.lifecycle.stop() { ids.append(id) }
        }
        ids += launched.subtracting(ids)
        await terminate(ids)
        watcher?.cancel()
        watcher = nil
    }

    private func launchSettled() {
        launchesInFlight -= 1
        guard launchesInFlight == 0 else { return }
        let waiting = launchesSettled
        launchesSettled = []
        for continuation in waiting { continuation.resume() }
    }

    /// The id of a node's current instance, if it has one.
    public func instance(context: ContextID, node: String) -> String? {
        slots[key(context, node)]?.lifecycle.instanceID
    }

    /// Every instance this launcher started and has not terminated.
    public var launchedInstances: Set<String> { launched }

    // MARK: Terminating

    /// Terminates every instance of a context that is pending, running, stopping or stopped, whoever started
    /// it (for `muster terminate` after `muster up` was killed): finds them by their `muster:context` tag.
    ///
    /// - Returns: the ids terminated.
    @discardableResult
    public static func terminate(context: ContextID, aws: AWSCommandLine) async throws(AWSError) -> [String] {
        let ec2 = EC2Client(aws: aws)
        let instances = try await ec2.describeInstances(filters: [
            .init("tag:\(Tags.context)", [context.rawValue]),
            .init("instance-state-name", ["pending", "running", "stopping", "stopped"]),
        ])
        let ids = instances.map(\.instanceID).sorted()
        for chunk in stride(from: 0, to: ids.count, by: 500) {
            try await ec2.terminateInstances(Array(ids[chunk..<min(chunk + 500, ids.count)]))
        }
        return ids
    }

    private func terminate(_ ids: [String]) async {
        guard !ids.isEmpty else { return }
        do {
            try await limiter.run { () async throws(AWSError) in try await ec2.terminateInstances(ids) }
            launched.subtract(ids)
            logger.info("instances terminated", metadata: ["instances": "\(ids.joined(separator: ","))"])
        } catch {
            logger.error("cannot terminate instances; terminate them by hand", metadata: ["instances": "\(ids)", "error": "\(error)"])
        }
    }

    // MARK: Launch details

    private func instanceSpec(for request: LaunchRequest) async throws -> EC2Client.InstanceSpec {
        let ami: String
        if let resolved = images[request.image] {
            ami = resolved
        } else {
            ami = try await resolve(image: request.image, workspace: request.workspace)
            images[request.image] = ami
        }
        let userdata = try EC2Userdata(
            request: request,
            scriptTimeoutSeconds: configuration.scriptTimeoutSeconds,
            caCertificatePEM: configuration.caCertificatePEM,
            download: configuration.agentDownload
        ).script()
        return EC2Client.InstanceSpec(
            imageID: ami,
            instanceType: configuration.instanceTypes[request.workspace] ?? configuration.instanceType,
            keyName: configuration.keyName,
            subnet: configuration.subnet,
            securityGroups: configuration.securityGroups,
            userdata: userdata,
            tags: [
                .init(key: Tags.context, value: request.context.rawValue),
                .init(key: Tags.node, value: request.node),
                .init(key: Tags.workspace, value: request.workspace),
                .init(key: "Name", value: request.node),
            ]
        )
    }

    static func details(_ instance: EC2Instance) -> MachineDetails {
        MachineDetails(
            instanceID: instance.instanceID,
            state: instance.state.name,
            privateIP: instance.privateIP,
            publicIP: instance.publicIP,
            instanceType: instance.instanceType,
            zone: instance.placement?.availabilityZone
        )
    }

    // MARK: Watching boots

    /// Polls every booting instance in one call, with backoff, until none is booting.
    private func watch() async {
        var interval = configuration.pollInterval
        while !Task.isCancelled {
            let booting = slots.compactMap { key, slot in slot.lifecycle.isBooting ? slot.lifecycle.instanceID.map { (key, $0) } : nil }
            guard !booting.isEmpty else { break }
            if watchWakeUp {
                watchWakeUp = false
                interval = configuration.pollInterval
            }
            do {
                try await Task.sleep(for: interval)
            } catch { break }
            interval = min(interval * 3 / 2, configuration.maxPollInterval)
            let ids = booting.map(\.1)
            let instances: [EC2Instance]
            do {
                instances = try await limiter.run { () async throws(AWSError) -> [EC2Instance] in
                    try await ec2.describeInstances(filters: [.init("instance-id", ids)])
                }
            } catch {
                logger.warning("cannot look at booting instances; trying again", metadata: ["error": "\(error)"])
                await observe([:], booting: booting)
                continue
            }
            await observe(Dictionary(instances.map { ($0.instanceID, $0) }, uniquingKeysWith: { first, _ in first }), booting: booting)
        }
        watcher = nil
    }

    private func observe(_ instances: [String: EC2Instance], booting: [(String, String)]) async {
        let now = clock.now
        for (key, id) in booting {
            guard var slot = slots[key], slot.lifecycle.instanceID == id else { continue }
            let instance = instances[id]
            let action = slot.lifecycle.observed(
                state: instance?.state.name,
                reason: instance?.stateReason?.message,
                at: now,
                bootTimeout: configuration.bootTimeout
            )
            slots[key] = slot
            let (context, node) = (slot.context, slot.node)
            let generation = slot.lifecycle.generation
            if let instance, action != .wait {
                await slot.reporter.machine(context: context, node: node, generation: generation, details: Self.details(instance))
            }
            switch action {
            case .wait:
                break
            case .booted:
                await slot.reporter.booted(context: context, node: node, generation: generation)
            case .failed(let message):
                launched.remove(id)
                await slot.reporter.launchFailed(context: context, node: node, generation: generation, message: message)
            case .timedOut(let message):
                await terminate([id])
                await slot.reporter.launchFailed(context: context, node: node, generation: generation, message: message)
            }
        }
    }
}
