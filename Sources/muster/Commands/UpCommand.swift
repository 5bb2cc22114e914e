import ArgumentParser
import Foundation
import Logging
import MusterBroker
import MusterClient
import MusterConsole
import MusterCore
import MusterLaunch
import ServiceLifecycle
import UnixSignals

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Boot a cluster and follow it: embedded broker, nodes as local processes or EC2 instances, live view.",
        discussion: """
            Starts a broker (state in --state), creates a context from CLUSTER, launches every node as a local \
            agent process with its own loopback address and root folder (<state>/<context>/nodes/<node>/), \
            and follows the boot. Each <image>NAME</image> is a folder images/NAME/ next to the cluster file \
            (or under --images), tried as written and without its extension; its ctx-scripts/ is copied into \
            the node's root. Missing image folders are reported before anything starts.

            Local nodes are kept away from the broker's state and the operator's processes (--isolation auto): \
            as root each node runs under a user id of its own (--node-uids); otherwise in its own user, mount \
            and PID namespaces, where the state folder is empty but for the node's root. When neither is \
            possible, up says so once: the nodes' scripts can then read what you can.

            On a terminal it opens the console; with --headless, or when output is not a terminal, it prints \
            one line per transition (and says so when a node can never be released without help), a summary, \
            and writes reports to <state>/<context>/reports/ (CTX-OK.txt or CTX-ERR.txt, one file per node) and \
            a known_hosts for wantlogin nodes. Without --keep, the end (or Ctrl-C) stops every node and the \
            broker; with --keep they stay up, and the progress goes on (a retried node is followed and the \
            reports rewritten) until Ctrl-C. Nothing it started outlives it, however it ends.

            With --broker URL it uses a running broker instead: the context is created there and its nodes \
            still run here, as local processes this command starts (and starts again when they are retried).

            With --launcher ec2 every node is an EC2 instance of its own, started through the AWS CLI (your \
            profiles, SSO, roles): <image> is an AMI id or an AMI name, resolved before anything starts. Each \
            instance's userdata holds only its own node's token. The broker must be reachable from the \
            instances: give --listen 0.0.0.0:PORT and --advertise https://PUBLIC-NAME:PORT; beyond loopback \
            it serves HTTPS with a CA of its own (in <state>/tls/) that every node pins. Instances whose image \
            lacks muster-agent download it from the broker: build one with --static-swift-stdlib (the README's \
            EC2 section has the command) and put it beside muster as muster-agent-linux-ARCH, or give \
            --agent-binary (an ordinary build needs the Swift runtime, and is served with a warning). A node that has not \
            checked in after --boot-timeout (default 600 s) times out and its instance is terminated; --hours \
            sets a lease after which every instance is terminated. When this command ends, every instance it \
            started is terminated (with --keep, at Ctrl-C); after a lost `muster up`, `muster terminate \
            CONTEXT --ec2` finds them by their tags.

            Exit status: 0 every node ok; 1 a node failed or was killed; 65 invalid document; 66 missing file, \
            image folder or AMI; 69 broker unreachable or cannot listen, AWS unreachable; 75 the state folder \
            is in use, an EC2 quota reached; 77 no AWS credentials; 124 --timeout passed; 130 interrupted; \
            141 output closed.

            Examples:
              muster up Examples/cpe/cluster.xml
              muster up Examples/cpe/cluster.xml --headless
              muster up Examples/torque/cluster.xml --headless --keep
              muster up cluster.xml --images ~/images --state /tmp/run1
              muster up cluster.xml --headless --timeout 300
              muster up cluster.xml --broker http://127.0.0.1:7077
              muster up cluster.xml --launcher ec2 --region us-east-1 --key-name ops \\
                --listen 0.0.0.0:7443 --advertise https://203.0.113.10:7443 --hours 2
            """
    )

    @Argument(help: ArgumentHelp("The cluster document.", valueName: "cluster.xml"), completion: .file(extensions: ["xml"]))
    var cluster: String

    @Option(
        name: [.customLong("state"), .customLong("work")],
        help: ArgumentHelp("Folder for the broker's state and the nodes' folders (--work is an older name).", valueName: "dir")
    )
    var state = ".muster"

    @Option(help: ArgumentHelp("Folder holding image folders (default: images/ next to the cluster file).", valueName: "dir"))
    var images: [String] = []

    @Flag(help: "Print progress lines instead of opening the console.")
    var headless = false

    @Flag(help: "Leave the broker and the nodes running when the context completes (Ctrl-C stops them).")
    var keep = false

    @Option(help: ArgumentHelp("Use this running broker instead of an embedded one; the nodes still run here.", valueName: "url"))
    var broker: String?

    @Option(help: ArgumentHelp("With --broker: read its operator token from this file (default: $MUSTER_TOKEN).", valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("With --broker: a PEM CA certificate to trust (a broker with a self-signed certificate).", valueName: "file"))
    var caCert: String?

    @Option(help: ArgumentHelp("Where the embedded broker listens (port 0 picks a free one).", valueName: "host:port"))
    var listen = ListenAddress(host: "127.0.0.1", port: 0)

    @Option(help: ArgumentHelp("Where nodes run: local (processes on this machine) or ec2 (one instance per node).", valueName: "launcher"))
    var launcher: LauncherKind = .local

    @OptionGroup(title: "EC2 (with --launcher ec2)") var aws: AWSOptions
    @OptionGroup(title: "EC2 instances") var ec2: EC2InstanceOptions

    @Option(help: ArgumentHelp("The URL nodes reach the embedded broker at (for EC2: https://PUBLIC-NAME-OR-IP:PORT).", valueName: "url"))
    var advertise: String?

    @Flag(help: "Let the embedded broker serve plain HTTP beyond loopback (tokens and secrets cross the network in clear).")
    var insecureHTTP = false

    @Option(help: ArgumentHelp("The context's lease: after this many hours every node is stopped (EC2: terminated).", valueName: "hours"))
    var hours: Double?

    @Option(help: ArgumentHelp("A launched node that has not checked in after this long times out (default on EC2: 600).", valueName: "seconds"))
    var bootTimeout: Int?

    @Option(help: ArgumentHelp("The longest one ctx-script may run before its process group is killed.", valueName: "seconds"))
    var scriptTimeout = 600

    @Option(help: ArgumentHelp("Time out the unfinished nodes (exit 124) if the context is not complete after this long.", valueName: "seconds"))
    var timeout: Int?

    @Option(help: ArgumentHelp("The console's theme.", valueName: "name"))
    var theme: String?

    @Option(help: ArgumentHelp("The muster-agent executable (default: next to muster).", valueName: "path"))
    var agent: String?

    @Option(help: ArgumentHelp("How local nodes are isolated: auto, users (root), namespaces or none.", valueName: "how"))
    var isolation = "auto"

    @Option(help: ArgumentHelp("As root: the user ids local nodes get, one per node.", valueName: "first-last"))
    var nodeUids = "\(NodeUserRange.standard.first)-\(NodeUserRange.standard.last)"

    @OptionGroup var agentBinary: AgentBinaryOptions

    @Option(help: ArgumentHelp("What to log to <state>/muster.log: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: Logger.Level = .info

    func validate() throws {
        if let timeout, timeout < 1 { throw ValidationError("--timeout must be at least 1 second") }
        if scriptTimeout < 1 { throw ValidationError("--script-timeout must be at least 1 second") }
        if broker == nil && (tokenFile != nil || caCert != nil) { throw ValidationError("--token-file and --ca-cert go with --broker") }
        if broker != nil && (advertise != nil || insecureHTTP) {
            throw ValidationError("--advertise and --insecure-http are for the embedded broker, not --broker")
        }
        if let hours, !(hours > 0 && hours <= 24 * 366) { throw ValidationError("--hours must be more than 0 and at most a year") }
        if let bootTimeout, bootTimeout < 1 { throw ValidationError("--boot-timeout must be at least 1 second") }
        if NodeIsolation.Choice(rawValue: isolation) == nil {
            throw ValidationError("--isolation is one of \(NodeIsolation.Choice.allCases.map(\.rawValue).joined(separator: ", ")), not \(isolation)")
        }
        do { _ = try NodeUserRange(parsing: nodeUids) } catch { throw ValidationError("--node-uids: \(error.message)") }
    }

    func run() async throws {
        try await CommandFailure.reporting {
            let document = try DocumentFile.load(cluster)
            guard let parsed = document.check.document else {
                Output.error(document.renderedDiagnostics(color: Terminal.wantsColor(fileDescriptor: STDERR_FILENO)))
                throw ExitCodes.invalidDocument
            }
            let stateFolder = LocalPath.absolute(state)
            // How nodes reach the broker, decided before anything starts (a CA is made for the advertised name).
            let exposure: BrokerExposure
            if broker == nil {
                exposure = try BrokerExposure.decide(
                    listenHost: listen.host,
                    listenPort: listen.port,
                    advertise: advertise,
                    tlsCert: nil,
                    tlsKey: nil,
                    insecureHTTP: insecureHTTP,
                    state: stateFolder
                )
            } else {
                exposure = BrokerExposure(caCertificatePEM: try caCert.map { path throws(CommandFailure) in try Self.readPEM(path) })
            }
            if let warning = exposure.warning { Output.error(warning) }
            let prepared = try await prepareLauncher(for: parsed, state: stateFolder, caCertificatePEM: exposure.caCertificatePEM)
            let logger = try UpLogger.make(state: stateFolder, level: logLevel)
            let session = UpSession(
                settings: UpSession.Settings(
                    clusterPath: cluster,
                    document: document.bytes,
                    state: stateFolder,
                    interactive: !headless && isatty(STDOUT_FILENO) == 1 && isatty(STDIN_FILENO) == 1
                        && !TerminalCapability.isDumb(ProcessInfo.processInfo.environment["TERM"]),
                    keep: keep,
                    limits: ContextLimitRequest(
                        bootTimeoutSeconds: bootTimeout ?? (launcher == .ec2 ? 600 : nil),
                        leaseSeconds: hours.map { Int(($0 * 3_600).rounded(.up)) },
                        deadlineSeconds: timeout
                    ),
                    theme: theme,
                    repositoryThemes: Installation.themesFolder()
                ),
                launcher: prepared.make(logger),
                logger: logger
            )
            session.clientCAPEM = exposure.caCertificatePEM
            // A reader that went away (`muster up … | head`) stops the boot the way Ctrl-C does; the exit status then
            // says so (141).
            Output.onBrokenPipe { session.outputClosed() }
            if !session.settings.interactive { Output.watchForClosedReader() }
            if let broker {
                try await runRemote(session, url: broker, logger: logger)
            } else {
                try await runEmbedded(session, state: stateFolder, exposure: exposure, agentDownload: prepared.agentDownload, logger: logger)
            }
            if session.isOutputClosed { Output.endAsBrokenPipe() }
            if session.exitCode != 0 { throw ExitCode(session.exitCode) }
        }
    }

    /// How to make the launcher, once everything it can check before a node starts has been checked.
    private struct PreparedLauncher {
        var make: (Logger) -> any NodeLauncher
        /// The agent binaries the embedded broker serves to stock images (EC2 only).
        var agentDownload: AgentDownload? = nil
    }

    /// Checks what the chosen launcher needs (image folders, or AMIs and AWS credentials); nothing is started when a
    /// check fails.
    private func prepareLauncher(for document: ClusterDocument, state: String, caCertificatePEM: String?) async throws -> PreparedLauncher {
        switch launcher {
        case .local:
            let clusterFolder = URL(fileURLWithPath: LocalPath.absolute(cluster)).deletingLastPathComponent().path
            var configuration = LocalLauncher.Configuration(
                workFolder: state,
                images: ImageFolders(
                    searchPath: images.isEmpty
                        ? [(clusterFolder as NSString).appendingPathComponent("images")] : images.map { LocalPath.absolute($0) }
                ),
                agentExecutable: agent.map { LocalPath.absolute($0) } ?? Installation.sibling("muster-agent"),
                scriptTimeoutSeconds: scriptTimeout,
                caCertificatePEM: caCertificatePEM
            )
            let preflight = LocalPreflight(
                workspaces: document.workspaces,
                images: configuration.images,
                agentExecutable: configuration.agentExecutable
            )
            guard preflight.problems.isEmpty else {
                for problem in preflight.problems { Output.error("error: \(cluster): \(problem)") }
                throw CommandFailure(
                    ExitCodes.notFound,
                    "nothing was started: \(Plural.count(preflight.problems.count, "problem")) with what the nodes need"
                )
            }
            do {
                configuration.isolation = try await NodeIsolation.choose(
                    NodeIsolation.Choice(rawValue: isolation) ?? .auto,
                    workFolder: configuration.workFolder,
                    agentExecutable: configuration.agentExecutable,
                    users: try NodeUserRange(parsing: nodeUids)
                )
            } catch {
                throw CommandFailure(ExitCodes.configuration, "nothing was started: \(error.message)")
            }
            if case .notIsolated(let reason) = configuration.isolation {
                Output.error(
                    "warning: local nodes are not isolated (\(reason)): their scripts run as you and can read \(state), the operator token included"
                )
            }
            return PreparedLauncher { [configuration] in LocalLauncher(configuration: configuration, logger: $0) }
        case .ec2:
            let download = try agentBinary.downloadWarning()
            let configuration = EC2Launcher.Configuration(
                aws: aws.options,
                instanceType: ec2.instanceType,
                instanceTypes: try ec2.instanceTypesByWorkspace(),
                keyName: ec2.keyName,
                subnet: ec2.subnet,
                securityGroups: ec2.securityGroup,
                imageOwners: ec2.imageOwner,
                caCertificatePEM: caCertificatePEM,
                agentDownload: download.map { EC2Userdata.AgentDownload(sha256: $0.sha256) },
                scriptTimeoutSeconds: scriptTimeout
            )
            var quiet = Logger(label: "muster.preflight")
            quiet.logLevel = .critical
            do {
                try await EC2Launcher(configuration: configuration, logger: quiet).preflight(workspaces: document.workspaces)
            } catch {
                throw CommandFailure(error.exitCode, "nothing was started: \(error.message)")
            }
            return PreparedLauncher(make: { EC2Launcher(configuration: configuration, logger: $0) }, agentDownload: download)
        }
    }

    private static func readPEM(_ path: String) throws(CommandFailure) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure(ExitCodes.configuration, "cannot read the CA certificate \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    private func runEmbedded(
        _ session: UpSession,
        state: String,
        exposure: BrokerExposure,
        agentDownload: AgentDownload?,
        logger: Logger
    ) async throws {
        let given = try OperatorToken.given(tokenFile: nil)
        var configuration = BrokerServerConfiguration(host: listen.host, port: listen.port, stateDirectory: state, operatorToken: given)
        exposure.apply(to: &configuration)
        configuration.agentDownload = agentDownload
        let server = try await BrokerServer.starting(configuration: configuration, launcher: session.launcher, logger: logger) { url in
            try? LocalBrokerFile(url: url.absoluteString, pid: getpid()).write(to: state)
            session.listening(url)
        }
        session.token = try server.mintedOperatorToken ?? given ?? OperatorToken.read((state as NSString).appendingPathComponent("operator-token"))
        defer { LocalBrokerFile.removeOwn(from: state) }
        try await BrokerServer.reportingStartFailures {
            try await Self.serviceGroup([.init(service: server), session.asService], logger: logger).run()
        }
    }

    private func runRemote(_ session: UpSession, url: String, logger: Logger) async throws {
        var configuration = try BrokerConfiguration(url: url)
        if let caCert {
            guard FileManager.default.isReadableFile(atPath: caCert) else {
                throw CommandFailure(ExitCodes.configuration, "cannot read the CA certificate \(caCert)")
            }
            configuration.tls.caCertificateFile = LocalPath.absolute(caCert)
        }
        let token = try OperatorToken.given(tokenFile: tokenFile)
        guard let token else {
            throw CommandFailure(ExitCodes.refused, "no operator token for \(url): pass --token-file FILE or set MUSTER_TOKEN")
        }
        session.token = token
        session.remote = configuration
        session.listening(URL(string: url) ?? URL(fileURLWithPath: "/"))
        try await Self.serviceGroup([session.asService], logger: logger).run()
        await session.launcher.stopAll()
    }

    private static func serviceGroup(_ services: [ServiceGroupConfiguration.ServiceConfiguration], logger: Logger) -> ServiceGroup {
        ServiceGroup(
            configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
    }
}

/// Where `muster up` logs: a file in the state folder (never the screen while the console runs).
enum UpLogger {
    static func make(state: String, level: Logger.Level) throws -> Logger {
        let path = (state as NSString).appendingPathComponent("muster.log")
        let handle: FileLogHandler.Sink
        do {
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            handle = try FileLogHandler.Sink(path: path)
        } catch {
            throw CommandFailure(ExitCodes.cannotCreate, "cannot write the log \(path): \(error.localizedDescription)")
        }
        var logger = Logger(label: "muster") { label in
            var handler = FileLogHandler(label: label, sink: handle)
            handler.logLevel = level
            return handler
        }
        logger.logLevel = level
        return logger
    }
}

/// Where `muster up` runs its nodes.
enum LauncherKind: String, ExpressibleByArgument, CaseIterable, Sendable {
    case local, ec2
}

extension AWSError {
    /// The exit status for an AWS failure before anything started.
    var exitCode: ExitCode {
        switch code {
        case .imageNotFound: ExitCodes.notFound
        case .noCredentials: ExitCodes.refused
        case .notInstalled, .timedOut, .throttled, .service: ExitCodes.unavailable
        case .quotaExceeded: ExitCodes.conflict
        default: ExitCodes.unavailable
        }
    }
}
