import Foundation
import Logging
import MusterCore
import MusterSystem
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The default launcher: every node is a `muster-agent` process on this machine.
///
/// Each node gets its own loopback address (``LoopbackAddresses``), the host name
/// `<node>.<context>.muster.local` (never resolved by the system: nodes learn it from the broker and write it
/// to their own `etc/hosts`), and a root folder `<work>/<context>/nodes/<node>/` into which its image's
/// `ctx-scripts/` is copied. The agent runs as the leader of a new session, so killing the node ends every
/// process it started, scripts and services included. How a node is kept away from the broker's state and the
/// operator's processes is its ``NodeIsolation``: its own user id as root, its own namespaces otherwise.
public actor LocalLauncher: NodeLauncher {
    /// Where a launcher finds things and puts things.
    public struct Configuration: Sendable {
        /// `<work>`: contexts' folders go under it.
        public var workFolder: String
        /// Folders that hold image folders.
        public var images: ImageFolders
        /// The `muster-agent` executable.
        public var agentExecutable: String
        /// The longest one ctx-script may run, passed to agents.
        public var scriptTimeoutSeconds: Int?
        /// A PEM CA certificate agents must trust (a broker with a self-signed certificate).
        public var caCertificatePEM: String?
        /// How nodes are isolated; nil chooses the best the system allows at the first launch
        /// (``NodeIsolation/choose(_:workFolder:agentExecutable:users:)``).
        public var isolation: NodeIsolation?

        /// Creates a configuration.
        public init(
            workFolder: String,
            images: ImageFolders,
            agentExecutable: String,
            scriptTimeoutSeconds: Int? = nil,
            caCertificatePEM: String? = nil,
            isolation: NodeIsolation? = nil
        ) {
            self.workFolder = workFolder
            self.images = images
            self.agentExecutable = agentExecutable
            self.scriptTimeoutSeconds = scriptTimeoutSeconds
            self.caCertificatePEM = caCertificatePEM
            self.isolation = isolation
        }
    }

    private struct Running {
        var generation: Int
        var pid: pid_t?
        var stopping = false
        var task: Task<Void, Never>
    }

    let configuration: Configuration
    private let addresses: LoopbackAddresses
    private let logger: Logger
    private var running: [String: Running] = [:]
    /// Each context's node indexes (for stable addresses), by node name.
    private var indexes: [ContextID: [String: Int]] = [:]
    /// Image folders of contexts whose document lives elsewhere (see `useImages(_:for:)`).
    var contextImages: [ContextID: ImageFolders] = [:]

    /// How nodes are isolated, once chosen.
    private var chosenIsolation: NodeIsolation?
    /// Node user ids (separate users only).
    private var users: NodeUsers?

    /// Ties every agent's life to this process: when it ends, however it ends, the agents stop their nodes.
    private let lifeline: Lifeline?

    /// Creates a launcher. Relative paths in `configuration` are taken from the current directory now, so that
    /// agents (which run in their node's folder) get absolute ones.
    public init(configuration: Configuration, addresses: LoopbackAddresses = LoopbackAddresses(), logger: Logger) {
        var configuration = configuration
        let here = FileManager.default.currentDirectoryPath
        func absolute(_ path: String) -> String {
            ((path.hasPrefix("/") ? path : (here as NSString).appendingPathComponent(path)) as NSString).standardizingPath
        }
        configuration.workFolder = absolute(configuration.workFolder)
        configuration.agentExecutable = absolute(configuration.agentExecutable)
        configuration.images.searchPath = configuration.images.searchPath.map(absolute)
        self.configuration = configuration
        self.addresses = addresses
        self.logger = logger
        do {
            lifeline = try Lifeline()
        } catch {
            logger.warning("agents will not stop by themselves if this process is killed", metadata: ["error": "\(error)"])
            lifeline = nil
        }
    }

    /// The environment an agent starts with: what a shell needs, nothing of the operator's (no tokens, no
    /// credentials, no `MUSTER_*`). Its scripts add `MUSTER_ROOT`, `MUSTER_NODE` and `MUSTER_CONTEXT`.
    public nonisolated static func agentEnvironment(
        root: String,
        inherited: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String: String] {
        var environment = [
            "PATH": inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": root,
            "SHELL": "/bin/sh",
        ]
        for name in ["LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME"] {
            if let value = inherited[name] { environment[name] = value }
        }
        return environment
    }

    /// How this launcher isolates its nodes (chosen at the first call when the configuration does not say).
    public func isolation() async -> NodeIsolation {
        if let chosenIsolation { return chosenIsolation }
        let chosen: NodeIsolation
        if let given = configuration.isolation {
            chosen = given
        } else {
            do {
                chosen = try await NodeIsolation.choose(workFolder: configuration.workFolder, agentExecutable: configuration.agentExecutable)
            } catch {
                chosen = .notIsolated(reason: error.message)
            }
        }
        if let chosenIsolation { return chosenIsolation }
        chosenIsolation = chosen
        if case .separateUsers(let range) = chosen { users = NodeUsers(range: range) }
        logger.info("nodes run with \(chosen)")
        return chosen
    }

    /// The root folder of a node (absolute).
    public nonisolated func root(context: ContextID, node: String) -> String {
        ((configuration.workFolder as NSString).appendingPathComponent(context.rawValue) as NSString)
            .appendingPathComponent("nodes/\(node)")
    }

    /// The host name of a node.
    public nonisolated static func hostname(context: ContextID, node: String) -> String {
        "\(HostName.label(from: node)).\(context.rawValue).muster.local"
    }

    private func key(_ context: ContextID, _ node: String) -> String { "\(context.rawValue)/\(node)" }

    // MARK: NodeLauncher

    public nonisolated var name: String { "local" }

    public func launch(_ request: LaunchRequest, reporter: any LaunchReporter) async {
        let key = key(request.context, request.node)
        if let previous = running[key] {
            // A retry replaces whatever is left of the previous generation.
            await stopProcess(key, previous)
        }
        let isolation = await isolation()
        // Nothing of the node's may still run while the launcher (maybe root) works in its root: a process that
        // outlived an agent that exited by itself could otherwise swap a folder for a link under the launcher.
        if let user = users?.existing(for: key) { await UserProcesses.killAll(user) }
        do {
            let user = try users?.user(for: key)
            let userdataPath = try prepareRoot(for: request, user: user)
            let root = root(context: request.context, node: request.node)
            let spawn = AgentSpawn(isolation: isolation, user: user, hide: configuration.workFolder)
            let task = Task { await self.runAgent(request, userdata: userdataPath, root: root, spawn: spawn, reporter: reporter) }
            running[key] = Running(generation: request.generation, task: task)
        } catch {
            logger.warning("launch failed", metadata: ["node": "\(key)", "reason": "\(error)"])
            await reporter.launchFailed(context: request.context, node: request.node, generation: request.generation, message: "\(error)")
        }
    }

    public func stop(context: ContextID, node: String) async {
        let key = key(context, node)
        guard let entry = running[key] else { return }
        await stopProcess(key, entry)
    }

    public func stopAll() async {
        for (key, entry) in running { await stopProcess(key, entry) }
        addresses.releaseAll()
        users?.releaseAll()
    }

    /// How many agent processes run now (for tests and the console's quit prompt).
    public var runningCount: Int { running.values.filter { $0.pid != nil && !$0.stopping }.count }

    // MARK: Node folders

    /// Creates the node's root, copies its image's ctx-scripts, and writes its userdata (mode 0600). With a node
    /// `user`, what the launcher made in the root is given to that user, and the folders above the root can be
    /// crossed (0711) but not listed; otherwise they are 0700.
    private func prepareRoot(for request: LaunchRequest, user: uid_t?) throws -> String {
        let image: String
        switch (contextImages[request.context] ?? configuration.images).folder(for: request.image) {
        case .success(let folder): image = folder
        case .failure(let error): throw LaunchError(error.description)
        }
        let root = root(context: request.context, node: request.node)
        let files = FileManager.default
        try files.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let nodes = (root as NSString).deletingLastPathComponent
        let contextFolder = (nodes as NSString).deletingLastPathComponent
        for folder in [contextFolder, nodes] { try files.setAttributes([.posixPermissions: user == nil ? 0o700 : 0o711], ofItemAtPath: folder) }
        if user != nil { try NodeOwnership.restrictToCrossing(configuration.workFolder) }
        // A node may have replaced its `.muster` with a link to somewhere else: what the launcher writes there must
        // land in the root.
        try NodeOwnership.remove((root as NSString).appendingPathComponent(".muster"), unlessItIs: S_IFDIR)
        try NodeOwnership.remove((root as NSString).appendingPathComponent("agent.log"), unlessItIs: S_IFREG)
        // A retry gets the image's scripts as they are now (the operator may have fixed one).
        let scripts = (root as NSString).appendingPathComponent("ctx-scripts")
        if files.fileExists(atPath: scripts) { try files.removeItem(atPath: scripts) }
        let source = (image as NSString).appendingPathComponent("ctx-scripts")
        if files.fileExists(atPath: source) {
            try files.copyItem(atPath: source, toPath: scripts)
        } else {
            try files.createDirectory(atPath: scripts, withIntermediateDirectories: true)
        }
        let nodeIndex = index(context: request.context, node: request.node)
        let hostname = Self.hostname(context: request.context, node: request.node)
        var nics: [AgentUserdata.NIC] = []
        for (offset, nic) in request.nics.enumerated() {
            // Each NIC of a node needs its own address: extra NICs take addresses from further blocks.
            let address = try addresses.address(context: request.context.rawValue, index: nodeIndex + offset * 100_000)
            nics.append(
                AgentUserdata.NIC(label: nic.label, ip: address, hostname: offset == 0 ? hostname : "\(HostName.label(from: nic.label)).\(hostname)")
            )
        }
        let userdata = AgentUserdata(
            broker: request.brokerURL,
            context: request.context,
            node: request.node,
            generation: request.generation,
            token: request.token,
            root: root,
            nics: nics,
            scriptTimeoutSeconds: request.scriptTimeoutSeconds ?? configuration.scriptTimeoutSeconds,
            caCertificatePEM: configuration.caCertificatePEM
        )
        let path = ((root as NSString).appendingPathComponent(".muster") as NSString).appendingPathComponent("userdata.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(userdata), to: URL(fileURLWithPath: path), mode: 0o600, folderMode: 0o700)
        if let user {
            try NodeOwnership.give([root, (path as NSString).deletingLastPathComponent, path], andTreeOf: scripts, to: user)
        }
        return path
    }

    /// A node's stable number within its context (the order nodes were first launched).
    private func index(context: ContextID, node: String) -> Int {
        if let index = indexes[context]?[node] { return index }
        let index = indexes[context]?.count ?? 0
        indexes[context, default: [:]][node] = index
        return index
    }

    // MARK: Processes

    /// How one agent is started: directly, under its node's user id, or through the namespace sandbox.
    private struct AgentSpawn: Sendable {
        var isolation: NodeIsolation
        var user: uid_t?
        /// The folder a sandbox hides (the work folder, with the broker's state when it is the state folder).
        var hide: String
    }

    private func runAgent(_ request: LaunchRequest, userdata: String, root: String, spawn: AgentSpawn, reporter: any LaunchReporter) async {
        let key = key(request.context, request.node)
        let logPath = (root as NSString).appendingPathComponent("agent.log")
        var platform = PlatformOptions()
        platform.createSession = true
        let status: TerminationStatus
        do {
            // Not through a link a node may have left in its root (the launcher may be root).
            let output = try FileDescriptor.open(
                FilePath(logPath),
                .writeOnly,
                options: [.create, .append, .noFollow],
                permissions: [.ownerReadWrite]
            )
            let error = try FileDescriptor.open(
                FilePath(logPath),
                .writeOnly,
                options: [.create, .append, .noFollow],
                permissions: [.ownerReadWrite]
            )
            var environment: [Environment.Key: String] = [:]
            for (name, value) in Self.agentEnvironment(root: root) {
                if let key = Environment.Key(rawValue: name) { environment[key] = value }
            }
            var arguments = ["--userdata", userdata]
            let input: FileDescriptorInput
            if let lifeline {
                arguments.append("--lifeline")
                input = .fileDescriptor(FileDescriptor(rawValue: lifeline.childEnd), closeAfterSpawningProcess: false)
            } else {
                input = .fileDescriptor(try FileDescriptor.open("/dev/null", .readOnly), closeAfterSpawningProcess: true)
            }
            var executable = configuration.agentExecutable
            if case .namespaces(let unshare) = spawn.isolation {
                arguments = NamespaceSandbox.arguments(unshare: unshare, root: root, hide: spawn.hide, command: [executable] + arguments)
                executable = unshare
            } else if let user = spawn.user {
                // Not swift-subprocess's userID/groupID: it changes ids in the forked child of this multithreaded
                // process, where glibc's setgroups can wait for ever on threads that are not there.
                let setpriv = NodeIsolation.tool("setpriv") ?? "/usr/bin/setpriv"
                arguments = ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", "--", executable] + arguments
                executable = setpriv
            }
            let result = try await Subprocess.run(
                .path(FilePath(executable)),
                arguments: Arguments(arguments),
                environment: .custom(environment),
                workingDirectory: FilePath(root),
                platformOptions: platform,
                input: input,
                output: .fileDescriptor(output, closeAfterSpawningProcess: true),
                error: .fileDescriptor(error, closeAfterSpawningProcess: true)
            ) { execution in
                self.started(key, generation: request.generation, pid: execution.processIdentifier.value)
                await reporter.booted(context: request.context, node: request.node, generation: request.generation)
            }
            status = result.terminationStatus
        } catch {
            running[key] = nil
            logger.warning("could not start the agent", metadata: ["node": "\(key)", "error": "\(error)"])
            await reporter.launchFailed(
                context: request.context,
                node: request.node,
                generation: request.generation,
                message: "could not start \(configuration.agentExecutable): \(error)"
            )
            return
        }
        let stopped = running[key].map { $0.generation == request.generation && $0.stopping } ?? true
        if running[key]?.generation == request.generation { running[key] = nil }
        guard !stopped else { return }
        let code: Int32
        let description: String
        switch status {
        case .exited(let value):
            code = value
            description = "exited with status \(value)"
        case .signaled(let signal):
            code = 128 + signal
            description = "was killed by signal \(signal)"
        }
        logger.info("agent ended", metadata: ["node": "\(key)", "status": "\(description)"])
        await reporter.agentExited(
            context: request.context,
            node: request.node,
            generation: request.generation,
            status: code,
            message: "the agent \(description); see \(logPath)"
        )
    }

    private func started(_ key: String, generation: Int, pid: pid_t) {
        guard running[key]?.generation == generation else { return }
        running[key]?.pid = pid
    }

    /// Ends a node's whole session and waits for its agent task to finish.
    private func stopProcess(_ key: String, _ entry: Running) async {
        running[key]?.stopping = true
        if let pid = entry.pid {
            await ProcessSession.terminate(pid)
        }
        // A node with a user id of its own: whatever left the session still runs under that id.
        if let user = users?.existing(for: key) { await UserProcesses.killAll(user) }
        await entry.task.value
        if running[key]?.generation == entry.generation { running[key] = nil }
    }
}
