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
        abstract: "Boot a cluster on this machine and follow it: embedded broker, local nodes, live view.",
        discussion: """
            Starts a broker (state in --work), creates a context from CLUSTER, launches every node as a local \
            agent process with its own loopback address and root folder (<work>/<context>/nodes/<node>/), and \
            follows the boot. Each <image>NAME</image> is a folder images/NAME/ next to the cluster file (or \
            under --images), tried as written and without its extension; its ctx-scripts/ is copied into the \
            node's root.

            On a terminal it opens the console; with --headless, or when output is not a terminal, it prints \
            one line per transition and a summary, writes reports to <work>/<context>/reports/ (CTX-OK.txt or \
            CTX-ERR.txt and one file per node) and a known_hosts for wantlogin nodes, then exits 0 when every \
            node is ok and 1 otherwise. Without --keep, the end (or Ctrl-C) stops every node and the broker; \
            with --keep they stay up for inspection until Ctrl-C. With --broker, a running broker is used.

            Examples:
              muster up Examples/cpe/cluster.xml
              muster up Examples/cpe/cluster.xml --headless
              muster up Examples/torque/cluster.xml --headless --keep
              muster up cluster.xml --images ~/images --work /tmp/run1 --script-timeout 120
            """
    )

    @Argument(help: ArgumentHelp("The cluster document.", valueName: "cluster.xml"))
    var cluster: String

    @Option(help: ArgumentHelp("Folder for the broker's state and the nodes' folders.", valueName: "dir"))
    var work = ".muster"

    @Option(help: ArgumentHelp("Folder holding image folders (default: images/ next to the cluster file).", valueName: "dir"))
    var images: [String] = []

    @Flag(help: "Print progress lines instead of opening the console.")
    var headless = false

    @Flag(help: "Leave the broker and the nodes running when the context completes (Ctrl-C stops them).")
    var keep = false

    @Option(help: ArgumentHelp("Use this running broker instead of an embedded one (nodes are not launched locally).", valueName: "url"))
    var broker: String?

    @Option(help: ArgumentHelp("Where the embedded broker listens (port 0 picks a free one).", valueName: "host:port"))
    var listen = ListenAddress(host: "127.0.0.1", port: 0)

    @Option(help: ArgumentHelp("The longest one ctx-script may run before its process group is killed.", valueName: "seconds"))
    var scriptTimeout = 600

    @Option(help: ArgumentHelp("Give up (exit 1) if the context is not complete after this long.", valueName: "seconds"))
    var timeout: Int?

    @Option(help: ArgumentHelp("The console's theme.", valueName: "name"))
    var theme: String?

    @Option(help: ArgumentHelp("Read the operator token of --broker from this file.", valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("The muster-agent executable (default: next to muster).", valueName: "path"))
    var agent: String?

    @Flag(help: "Log debug messages to <work>/muster.log.")
    var verbose = false

    func validate() throws {
        if let timeout, timeout < 1 { throw ValidationError("--timeout must be at least 1 second") }
        if scriptTimeout < 1 { throw ValidationError("--script-timeout must be at least 1 second") }
    }

    func run() async throws {
        let document = try DocumentFile.load(cluster)
        guard document.check.isValid else {
            Output.error(document.renderedDiagnostics(color: Terminal.wantsColor(fileDescriptor: STDERR_FILENO)))
            throw ExitCodes.invalidDocument
        }
        let interactive = !headless && isatty(STDOUT_FILENO) == 1 && isatty(STDIN_FILENO) == 1
        let logger = try UpLogger.make(work: work, verbose: verbose)
        let settings = UpSession.Settings(
            clusterPath: cluster,
            document: document.bytes,
            work: work,
            interactive: interactive,
            keep: keep,
            timeout: timeout.map { Duration.seconds($0) },
            theme: theme ?? ProcessInfo.processInfo.environment["MUSTER_THEME"],
            repositoryThemes: UpCommand.themesFolder()
        )
        let session = UpSession(settings: settings, logger: logger)
        if let broker {
            let token = try OperatorToken.given(tokenFile: tokenFile) ?? BrokerOptions.parseOrExit(["--broker", broker]).token()
            try await session.runRemote(url: broker, token: token)
        } else {
            try await runEmbedded(session, logger: logger)
        }
        if session.exitCode != 0 { throw ExitCode(session.exitCode) }
    }

    private func runEmbedded(_ session: UpSession, logger: Logger) async throws {
        let clusterFolder = (URL(fileURLWithPath: cluster).deletingLastPathComponent().path as NSString).appendingPathComponent("images")
        let launcher = LocalLauncher(
            configuration: .init(
                workFolder: work,
                images: ImageFolders(searchPath: images.isEmpty ? [clusterFolder] : images),
                agentExecutable: agent ?? Self.siblingExecutable("muster-agent"),
                scriptTimeoutSeconds: scriptTimeout
            ),
            logger: logger
        )
        let work = work
        let server = try await BrokerServer(
            configuration: BrokerServerConfiguration(
                host: listen.host,
                port: listen.port,
                stateDirectory: work,
                operatorToken: ProcessInfo.processInfo.environment["MUSTER_TOKEN"]
            ),
            launcher: launcher,
            logger: logger
        ) { url in
            try? LocalBrokerFile(url: url.absoluteString, pid: getpid()).write(to: work)
            session.listening(url)
        }
        let token =
            try server.mintedOperatorToken ?? OperatorToken.given(tokenFile: nil)
            ?? OperatorToken.read((work as NSString).appendingPathComponent("operator-token"))
        session.token = token
        session.launcher = launcher
        defer { LocalBrokerFile.remove(from: work) }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: server),
                    .init(
                        service: session,
                        successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup
                    ),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    /// A program installed next to this one (`swift build` puts muster and muster-agent side by side).
    static func siblingExecutable(_ name: String) -> String {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let sibling = me.deletingLastPathComponent().appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        if let path = ProcessInfo.processInfo.environment["PATH"] {
            for folder in path.split(separator: ":") {
                let candidate = (String(folder) as NSString).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return sibling
    }

    /// The repository's Themes/ folder, when muster runs from a checkout.
    static func themesFolder() -> String? {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = folder.appendingPathComponent("Themes").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        let local = FileManager.default.currentDirectoryPath + "/Themes"
        return FileManager.default.fileExists(atPath: local) ? local : nil
    }
}

/// Where `muster up` logs: a file under the work folder (never the screen while the console runs).
enum UpLogger {
    static func make(work: String, verbose: Bool) throws -> Logger {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = (work as NSString).appendingPathComponent("muster.log")
        let handle = try FileLogHandler.Sink(path: path)
        var logger = Logger(label: "muster") { label in
            var handler = FileLogHandler(label: label, sink: handle)
            handler.logLevel = verbose ? .debug : .info
            return handler
        }
        logger.logLevel = verbose ? .debug : .info
        return logger
    }
}
