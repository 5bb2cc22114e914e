import ArgumentParser
import Foundation
import Logging
import MusterClient
import MusterConsole
import MusterCore
import MusterLaunch
import ServiceLifecycle
import Synchronization

/// One `muster up`: create the context on the broker, follow it (console or progress lines), write the
/// reports, and decide the exit status. Runs as a service (next to the embedded broker, when there is one), so
/// that Ctrl-C, SIGTERM and a closed output all end it the same way: gracefully, stopping every node.
final class UpSession: Service, Sendable {
    struct Settings: Sendable {
        /// The cluster file as the user typed it (for messages).
        var clusterPath: String
        var document: [UInt8]
        /// The state folder, absolute.
        var state: String
        var interactive: Bool
        var keep: Bool
        /// The time limits the broker enforces (boot timeout, lease, `--timeout` as a deadline).
        var limits: ContextLimitRequest
        var theme: String?
        var repositoryThemes: String?
    }

    private struct State {
        var token: String?
        var remote: BrokerConfiguration?
        var clientCAPEM: String?
        var exitCode: Int32 = 0
        var outputClosed = false
    }

    let settings: Settings
    /// The launcher that runs this command's nodes (inside the embedded broker, or driven from here for --broker).
    let launcher: any NodeLauncher
    let logger: Logger
    private let state = Mutex(State())
    private let urls: AsyncStream<URL>
    private let urlSink: AsyncStream<URL>.Continuation

    init(settings: Settings, launcher: any NodeLauncher, logger: Logger) {
        self.settings = settings
        self.launcher = launcher
        self.logger = logger
        (urls, urlSink) = AsyncStream.makeStream(of: URL.self, bufferingPolicy: .bufferingNewest(1))
    }

    var token: String? {
        get { state.withLock { $0.token } }
        set { state.withLock { $0.token = newValue } }
    }

    /// For `--broker`: how to reach the running broker (nil: the embedded one).
    var remote: BrokerConfiguration? {
        get { state.withLock { $0.remote } }
        set { state.withLock { $0.remote = newValue } }
    }

    /// A CA certificate this command's own client trusts (the embedded broker's own CA, or --broker's --ca-cert).
    var clientCAPEM: String? {
        get { state.withLock { $0.clientCAPEM } }
        set { state.withLock { $0.clientCAPEM = newValue } }
    }

    /// 0 when every node ended ok, 1 otherwise, 124 after --timeout, 130 when interrupted.
    var exitCode: Int32 { state.withLock { $0.exitCode } }

    private func setExitCode(_ code: Int32) { state.withLock { $0.exitCode = code } }

    /// Whether standard output's reader went away.
    var isOutputClosed: Bool { state.withLock { $0.outputClosed } }

    /// Standard output's reader went away: stop as Ctrl-C would (the service group turns SIGTERM into a graceful
    /// shutdown, which stops every node).
    func outputClosed() {
        state.withLock { $0.outputClosed = true }
        kill(getpid(), SIGTERM)
    }

    /// The broker's URL, once known (the embedded broker calls this once it listens).
    func listening(_ url: URL) { urlSink.yield(url) }

    /// This session in a service group: when it ends, the group (and the embedded broker) ends too.
    var asService: ServiceGroupConfiguration.ServiceConfiguration {
        .init(service: self, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
    }

    // MARK: Running

    func run() async throws {
        var iterator = urls.makeAsyncIterator()
        guard let url = await iterator.next() else { return }
        let remote = self.remote
        var configuration = try remote ?? BrokerConfiguration(url: url.absoluteString)
        if let ca = clientCAPEM, configuration.tls.caCertificateFile == nil { configuration.tls.caCertificatePEM = ca }
        let connection = try BrokerConnection(configuration: configuration, logger: logger)
        defer { Task { try? await connection.shutdown() } }
        let client = connection.operatorClient(token: token ?? "")
        let created: CreatedContext
        do {
            // A broker that starts nodes itself (another `muster up`'s) would start this document's nodes with its
            // own image folders, not this command's: say so before anything is created.
            if let remote, try await connection.health().launchesNodes == true {
                Output.error(
                    "error: the broker at \(remote.baseURL) starts its nodes itself (it is another muster up's, or has a launcher); "
                        + "run muster up without --broker, or :launch \(settings.clusterPath) in that broker's console"
                )
                setExitCode(ExitCodes.conflict.rawValue)
                return
            }
            created = try await client.createContext(
                document: Data(settings.document),
                name: ContextName.from(path: settings.clusterPath),
                launch: true,
                limits: settings.limits
            )
        } catch let error as BrokerClientError {
            Output.error("error: \(error.operatorMessage)")
            for diagnostic in error.diagnostics { Output.error(diagnostic.formatted(file: settings.clusterPath)) }
            setExitCode(error.exitCode.rawValue)
            return
        }
        let id = created.context.id
        let brokerURL = configuration.baseURL
        let agentURLs = configuration.baseURLs
        logger.info("context created", metadata: ["context": "\(id)", "broker": "\(brokerURL)"])
        // Against a running broker, this command is the launcher: it starts the nodes, and starts them again when
        // they are retried (from here, the CLI or a console elsewhere).
        let external = remote.map { _ in
            Task { await ExternalLaunching(client: client, launcher: launcher, brokerURLs: agentURLs, logger: logger).run(created) }
        }
        defer { external?.cancel() }
        let outcome: FollowOutcome
        if settings.interactive {
            outcome = try await runConsole(client: client, context: id, url: brokerURL, embedded: remote == nil)
            await finish(client: client, context: id, url: brokerURL, printSummary: false)
        } else {
            Output.line(
                "muster up: \(settings.clusterPath) → context \(id) (\(Plural.count(created.context.nodes.count, "node"))), broker \(brokerURL)"
            )
            let follower = HeadlessFollower(client: client, created: created, keep: settings.keep) { detail in
                await self.writeReports(detail, client: client, url: brokerURL)
            }
            outcome = await follower.follow()
        }
        switch outcome {
        case .complete(let status) where !status.allOk && settings.limits.deadlineSeconds != nil && status.count(.timedOut) > 0:
            Output.line("muster up: context \(id) was not complete by the --timeout; its unfinished nodes timed out")
            setExitCode(ExitCodes.timedOut.rawValue)
        case .complete(let status): setExitCode(status.allOk ? 0 : 1)
        case .interrupted:
            if !isOutputClosed { Output.line("muster up: interrupted") }
            setExitCode(ExitCodes.interrupted.rawValue)
        }
        // What this command started does not outlive it: its context ends with it (unfinished nodes are killed;
        // the ok ones keep their result).
        _ = try? await client.terminate(id)
        if case .complete = outcome {
        } else if !settings.interactive {
            await finish(client: client, context: id, url: brokerURL, printSummary: !isOutputClosed)
        }
    }

    // MARK: Reports

    /// Writes the reports and prints the summary of the final picture.
    private func finish(client: OperatorClient, context: ContextID, url: String, printSummary: Bool) async {
        do {
            let detail = try await client.context(context)
            await writeReports(detail, client: client, url: url, printSummary: printSummary)
        } catch {
            Output.error("muster up: could not read the final status: \(error)")
            if exitCode == 0 { setExitCode(1) }
        }
    }

    /// Writes `reports/` and `known_hosts` for a context, and prints the summary.
    private func writeReports(_ detail: ContextDetail, client: OperatorClient, url: String, printSummary: Bool = true) async {
        let reports = ContextReports(work: settings.state, context: detail.context.id)
        do {
            try await reports.write(detail, broker: url, client: client)
        } catch {
            Output.error("muster up: could not write the reports in \(LocalPath.display(reports.reportsFolder)): \(error)")
        }
        guard printSummary else { return }
        let status = detail.context.status
        Output.line("")
        Output.line(StatusCommand.render(detail.context, now: Date()))
        let elapsed = HumanDuration.text(Date().timeIntervalSince(detail.context.createdAt))
        Output.line("")
        Output.line(
            "context \(detail.context.id): \(StatusCommand.describe(status)), \(status.count(.ok))/\(status.expected) ok in \(elapsed); "
                + "reports in \(LocalPath.display(reports.reportsFolder))"
        )
    }

    // MARK: Console

    private func runConsole(client: OperatorClient, context: ContextID, url: String, embedded: Bool) async throws -> FollowOutcome {
        let setup = ConsoleSetup(
            flagTheme: settings.theme,
            readOnly: false,
            quitStopsBroker: !settings.keep,
            state: settings.state,
            broker: url,
            environment: ProcessInfo.processInfo.environment
        )
        let configuration = setup.configuration(context: context)
        let logger = logger
        // SIGINT/SIGTERM reach the service group, not the console: a graceful shutdown cancels it, which quits it.
        do {
            try await cancelWhenGracefulShutdown {
                try await ConsoleRunner.run(
                    configuration: configuration,
                    feed: ClientConsoleFeed(client: client, logger: logger),
                    actions: UpConsoleActions(
                        client: client,
                        launcher: self.launcher,
                        external: !embedded,
                        brokerURLs: client.connection.configuration.baseURLs,
                        logger: logger
                    ),
                    logger: logger,
                    handleSignals: false
                )
            }
        } catch is CancellationError {
            return await Self.finalOutcome(client: client, context: context)
        }
        if settings.keep {
            Output.line("muster up: --keep: the broker (\(url)) and the nodes stay up; `muster status` works from here. Ctrl-C stops them.")
            try? await gracefulShutdown()
        }
        return await Self.finalOutcome(client: client, context: context)
    }

    /// How a context stands when following it ends early: complete (for better or worse), or interrupted.
    static func finalOutcome(client: OperatorClient, context: ContextID) async -> FollowOutcome {
        guard let status = try? await client.context(context).context.status, status.complete else { return .interrupted }
        return .complete(status)
    }
}

/// How following a context ended.
enum FollowOutcome: Sendable {
    /// Every node finished (with the final status).
    case complete(ContextStatus)
    /// Ctrl-C, SIGTERM, a closed output, or the broker went away for good.
    case interrupted
}
