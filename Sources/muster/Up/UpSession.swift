import Foundation
import Logging
import MusterClient
import MusterConsole
import MusterCore
import MusterLaunch
import ServiceLifecycle
import Synchronization

/// One `muster up`: create the context on the broker, follow it (console or progress lines), write the
/// reports, and decide the exit status. Runs as a service next to the embedded broker, so Ctrl-C stops both.
final class UpSession: Service, Sendable {
    struct Settings: Sendable {
        var clusterPath: String
        var document: [UInt8]
        var work: String
        var interactive: Bool
        var keep: Bool
        var timeout: Duration?
        var theme: String?
        var repositoryThemes: String?
    }

    private struct State {
        var token: String?
        var launcher: LocalLauncher?
        var exitCode: Int32 = 0
    }

    let settings: Settings
    let logger: Logger
    private let state = Mutex(State())
    private let urls: AsyncStream<URL>
    private let urlSink: AsyncStream<URL>.Continuation

    init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        (urls, urlSink) = AsyncStream.makeStream(of: URL.self, bufferingPolicy: .bufferingNewest(1))
    }

    var token: String? {
        get { state.withLock { $0.token } }
        set { state.withLock { $0.token = newValue } }
    }

    var launcher: LocalLauncher? {
        get { state.withLock { $0.launcher } }
        set { state.withLock { $0.launcher = newValue } }
    }

    /// 0 when every node ended ok, 1 otherwise, 130 when interrupted.
    var exitCode: Int32 { state.withLock { $0.exitCode } }

    private func setExitCode(_ code: Int32) { state.withLock { $0.exitCode = code } }

    /// Called by the embedded broker once it listens.
    func listening(_ url: URL) { urlSink.yield(url) }

    // MARK: Running

    func run() async throws {
        var iterator = urls.makeAsyncIterator()
        guard let url = await iterator.next() else { return }
        try await session(url: url.absoluteString, token: token ?? "", embedded: true)
    }

    /// Runs against a broker that is already running (`--broker`).
    func runRemote(url: String, token: String) async throws {
        try await session(url: url, token: token, embedded: false)
    }

    private func session(url: String, token: String, embedded: Bool) async throws {
        let connection = try BrokerConnection(configuration: BrokerConfiguration(url: url), logger: logger)
        defer { Task { try? await connection.shutdown() } }
        let client = connection.operatorClient(token: token)
        let name = ContextName.from(path: settings.clusterPath)
        let created: CreatedContext
        do {
            created = try await client.createContext(document: Data(settings.document), name: name, launch: true)
        } catch let error as BrokerClientError {
            Output.error("error: \(error.message)")
            setExitCode(1)
            return
        }
        let id = created.context.id
        logger.info("context created", metadata: ["context": "\(id)", "broker": "\(url)"])
        if settings.interactive {
            try await runConsole(client: client, context: id, url: url, embedded: embedded)
            await finish(client: client, context: id, url: url, printSummary: false)
        } else {
            Output.line("muster up: \(settings.clusterPath) → context \(id) (\(created.context.nodes.count) nodes), broker \(url)")
            try await followHeadless(client: client, created: created)
            await finish(client: client, context: id, url: url, printSummary: true)
            if settings.keep && embedded {
                Output.line("--keep: the broker (\(url)) and the nodes stay up; `muster status` works from here. Ctrl-C stops them.")
                try? await gracefulShutdown()
            }
        }
    }

    // MARK: Headless

    private func followHeadless(client: OperatorClient, created: CreatedContext) async throws {
        let id = created.context.id
        let outcome: FollowOutcome = await withTaskGroup(of: FollowOutcome.self) { group in
            group.addTask {
                var printer = ProgressPrinter(start: created.context.createdAt, nodes: created.context.nodes.map(\.name))
                do {
                    for try await element in client.events(context: id, after: created.context.sequence) {
                        switch element {
                        case .event(let event):
                            if let line = printer.line(for: event) { Output.line(line) }
                            if case .contextStatus(let status) = event.change, status.complete { return .complete }
                        case .connection(let state):
                            if state.isInterrupted { Output.error("muster up: broker connection \(state)") }
                        }
                    }
                    return .interrupted
                } catch {
                    Output.error("muster up: lost the broker: \(error)")
                    return .interrupted
                }
            }
            if let timeout = settings.timeout {
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    return Task.isCancelled ? .interrupted : .timedOut
                }
            }
            group.addTask {
                try? await gracefulShutdown()
                return .interrupted
            }
            let first = await group.next() ?? .interrupted
            group.cancelAll()
            return first
        }
        switch outcome {
        case .complete: break
        case .timedOut:
            Output.line("muster up: the context is not complete after the --timeout; giving up")
            setExitCode(1)
        case .interrupted:
            Output.line("muster up: interrupted")
            setExitCode(130)
        }
    }

    private enum FollowOutcome: Sendable {
        case complete
        case timedOut
        case interrupted
    }

    /// Prints the summary, writes the reports, and sets the exit status from the final picture.
    private func finish(client: OperatorClient, context: ContextID, url: String, printSummary: Bool) async {
        do {
            let detail = try await client.context(context)
            let status = detail.context.status
            if exitCode == 0 { setExitCode(status.complete && status.allOk ? 0 : 1) }
            let reports = ContextReports(work: settings.work, context: context)
            try await reports.write(detail, broker: url, client: client)
            if printSummary {
                Output.line("")
                Output.line(StatusCommand.render(detail.context, now: Date()))
                let elapsed = HumanDuration.text(Date().timeIntervalSince(detail.context.createdAt))
                Output.line("")
                Output.line(
                    "context \(context): \(StatusCommand.describe(status)), \(status.count(.ok))/\(status.expected) ok in \(elapsed); reports in \(reports.reportsFolder)"
                )
            }
        } catch {
            Output.error("muster up: could not read the final status: \(error)")
            setExitCode(1)
        }
    }

    // MARK: Console

    private func runConsole(client: OperatorClient, context: ContextID, url: String, embedded: Bool) async throws {
        let environment = ProcessInfo.processInfo.environment
        let catalog = ThemeCatalog(
            folders: ThemeCatalog.standardFolders(
                repositoryThemes: settings.repositoryThemes.map { URL(fileURLWithPath: $0) },
                environment: environment
            )
        )
        let options = ConsoleOptions(
            quitStopsBroker: embedded && !settings.keep,
            themeNames: catalog.names(),
            themeName: ThemeChoice.name(flag: settings.theme, environment: environment),
            timeZone: .current
        )
        // SIGINT/SIGTERM reach the service group, not the console: a graceful shutdown cancels it, which quits it.
        try await cancelWhenGracefulShutdown {
            try await self.console(
                client: client,
                context: context,
                url: url,
                embedded: embedded,
                catalog: catalog,
                options: options,
                environment: environment
            )
        }
    }

    private func console(
        client: OperatorClient,
        context: ContextID,
        url: String,
        embedded: Bool,
        catalog: ThemeCatalog,
        options: ConsoleOptions,
        environment: [String: String]
    ) async throws {
        try await ConsoleRunner.run(
            configuration: ConsoleConfiguration(
                broker: url,
                context: context,
                options: options,
                themes: catalog,
                colorsDisabled: ThemeChoice.colorsDisabled(environment: environment)
            ),
            feed: ClientConsoleFeed(client: client, logger: logger),
            actions: ClientConsoleActions(client: client),
            logger: logger,
            handleSignals: false
        )
    }
}
