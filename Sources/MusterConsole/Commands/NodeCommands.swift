import Foundation
import MusterCore

/// How the console runs programs for a node: a shell on it (`s`) and the user's own commands (config file
/// hotkeys). A node runs on this machine when the local launcher's root folder of it is here: the shell then
/// starts in that folder with the node's environment; otherwise it is `ssh` to the node's address, trusting
/// only the host keys Muster collected (no trust-on-first-use prompt).
public struct NodeCommands: Sendable {
    /// Where the console writes temporary files (a known_hosts for `ssh`).
    public var temporaryFolder: String
    /// The broker's address (`$MUSTER_BROKER`).
    public var broker: String
    /// The root folder of a node on this machine, if it is here.
    public var localRoot: @Sendable (_ context: ContextID, _ node: String) -> String?
    /// The environment a local node's processes get (its `HOME`, `PATH`, … and nothing of the operator's).
    public var localEnvironment: @Sendable (_ root: String) -> [String: String]
    /// The operator's environment (for `ssh` and user commands, and `TERM`).
    public var operatorEnvironment: [String: String]
    /// The shell command for a local node (`/bin/sh -c`), nil for the operator's `$SHELL`.
    public var localShell: String?
    /// The shell command for a remote node (`/bin/sh -c`, with `$MUSTER_KNOWN_HOSTS`), nil for the `ssh` default.
    public var remoteShell: String?
    /// The user's commands.
    public var user: [UserCommand]

    /// Creates the settings.
    public init(
        temporaryFolder: String = NSTemporaryDirectory(),
        broker: String,
        localRoot: @escaping @Sendable (ContextID, String) -> String?,
        localEnvironment: @escaping @Sendable (String) -> [String: String],
        operatorEnvironment: [String: String],
        localShell: String? = nil,
        remoteShell: String? = nil,
        user: [UserCommand] = []
    ) {
        self.temporaryFolder = temporaryFolder
        self.broker = broker
        self.localRoot = localRoot
        self.localEnvironment = localEnvironment
        self.operatorEnvironment = operatorEnvironment
        self.localShell = localShell
        self.remoteShell = remoteShell
        self.user = user
    }

    /// Why a command cannot run for a node.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        /// What is wrong, for the status line.
        public var description: String
    }

    /// The program to run for a `.shell` or `.userCommand` effect.
    public func command(for effect: ConsoleEffect, model: ConsoleModel) -> Result<ForegroundCommand, Problem> {
        guard let context = model.contextID else { return .failure(Problem(description: "no context is shown")) }
        switch effect {
        case .shell(let name):
            guard let index = model.index(ofNode: name) else { return .failure(Problem(description: "no node \(name)")) }
            return shell(on: index, context: context, model: model)
        case .userCommand(let command, let name):
            guard let index = model.index(ofNode: name) else { return .failure(Problem(description: "no node \(name)")) }
            var environment = operatorEnvironment.merging(variables(of: index, context: context, model: model)) { $1 }
            if let root = localRoot(context, name), FileManager.default.fileExists(atPath: root) { environment["MUSTER_ROOT"] = root }
            var files: [String] = []
            if let hosts = try? writeKnownHosts(model) {
                environment["MUSTER_KNOWN_HOSTS"] = hosts
                files.append(hosts)
            }
            return .success(
                ForegroundCommand(
                    arguments: ["/bin/sh", "-c", command.command],
                    environment: environment,
                    pauseAfter: command.wait,
                    title: "\(command.name) on \(name)",
                    temporaryFiles: files
                )
            )
        default:
            return .failure(Problem(description: "not a command"))
        }
    }

    /// The variables a node's commands get.
    public func variables(of index: Int, context: ContextID, model: ConsoleModel) -> [String: String] {
        let node = model.nodes[index]
        var variables = [
            "MUSTER_NODE": node.name,
            "MUSTER_CONTEXT": context.rawValue,
            "MUSTER_WORKSPACE": model.workspaces[node.workspace].name,
            "MUSTER_STATE": node.state.rawValue,
            "MUSTER_BROKER": broker,
        ]
        if let identity = node.identities.first {
            variables["MUSTER_IP"] = identity.ip
            variables["MUSTER_HOSTNAME"] = identity.hostname
        }
        return variables
    }

    private func shell(on index: Int, context: ContextID, model: ConsoleModel) -> Result<ForegroundCommand, Problem> {
        let node = model.nodes[index]
        let variables = variables(of: index, context: context, model: model)
        if let root = localRoot(context, node.name), FileManager.default.fileExists(atPath: root) {
            var environment = localEnvironment(root).merging(variables) { $1 }
            environment["MUSTER_ROOT"] = root
            environment["TERM"] = operatorEnvironment["TERM"] ?? "xterm"
            environment["PS1"] = "[\(node.name)] $ "
            let arguments =
                localShell.map { ["/bin/sh", "-c", $0] } ?? [operatorEnvironment["SHELL"].flatMap { $0.isEmpty ? nil : $0 } ?? "/bin/sh", "-i"]
            return .success(ForegroundCommand(arguments: arguments, environment: environment, directory: root, title: "shell on \(node.name)"))
        }
        guard let ip = node.ip else {
            return .failure(Problem(description: "\(node.name) has not checked in: there is no address to open a shell on"))
        }
        let hosts: String
        do {
            hosts = try writeKnownHosts(model)
        } catch {
            return .failure(Problem(description: "cannot write a known_hosts file in \(temporaryFolder): \(error)"))
        }
        var environment = operatorEnvironment.merging(variables) { $1 }
        environment["MUSTER_KNOWN_HOSTS"] = hosts
        let arguments =
            remoteShell.map { ["/bin/sh", "-c", $0] } ?? [
                "ssh", "-o", "UserKnownHostsFile=\(hosts)", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", ip,
            ]
        return .success(ForegroundCommand(arguments: arguments, environment: environment, title: "shell on \(node.name)", temporaryFiles: [hosts]))
    }

    /// A known_hosts file with the host key of every node that checked in (`ip,hostname key`), mode 0600.
    func writeKnownHosts(_ model: ConsoleModel) throws -> String {
        var text = ""
        for node in model.nodes {
            for identity in node.identities where !identity.pubkey.isEmpty {
                text += "\(identity.ip),\(identity.hostname) \(identity.pubkey)\n"
            }
        }
        let path = (temporaryFolder as NSString).appendingPathComponent("muster-known-hosts-\(UUID().uuidString.prefix(12))")
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return path
    }
}
