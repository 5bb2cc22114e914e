import Dispatch
import Foundation
import Logging
import MusterCore
import Synchronization

/// How a console session starts.
public struct ConsoleConfiguration: Sendable {
    /// The broker address shown in the header.
    public var broker: String
    /// The context to show; nil shows the first one the feed knows.
    public var context: ContextID?
    /// Read-only, quit behaviour, themes, glyphs.
    public var options: ConsoleOptions
    /// Where themes come from.
    public var themes: ThemeCatalog
    /// Draw without colours (`NO_COLOR`).
    public var colorsDisabled: Bool

    /// Creates a configuration.
    public init(broker: String, context: ContextID?, options: ConsoleOptions, themes: ThemeCatalog, colorsDisabled: Bool) {
        self.broker = broker
        self.context = context
        self.options = options
        self.themes = themes
        self.colorsDisabled = colorsDisabled
    }
}

/// Runs the console: the UI loop on a thread of its own (all curses calls happen there), the feed and the
/// actions in async tasks that talk to the loop only through a ``ConsoleInbox``.
///
/// To plug the broker client in, implement ``ConsoleFeed`` (snapshot + event stream + output + connection
/// state) and ``ConsoleActions`` (launch, add nodes, retry, kill) over `MusterClient`, then:
///
/// ```swift
/// try await ConsoleRunner.run(configuration: configuration, feed: ClientFeed(client), actions: ClientActions(client),
///                             logger: fileLogger)
/// ```
public enum ConsoleRunner {
    /// Runs until the operator quits or the process gets SIGTERM, SIGINT or SIGHUP; the terminal is restored
    /// in every case. Throws when the terminal cannot be used.
    public static func run(
        configuration: ConsoleConfiguration,
        feed: some ConsoleFeed,
        actions: some ConsoleActions,
        logger: Logger,
        handleSignals: Bool = true,
        makeDriver: @escaping @Sendable () -> any TerminalDriver = { NcursesTerminal() }
    ) async throws {
        let inbox = ConsoleInbox()
        let (jobs, jobSink) = AsyncStream<Job>.makeStream()
        let current = CurrentContext(configuration.context)
        // A caller that handles SIGTERM and SIGINT itself (a service group) stops the console by cancelling it.
        let signals = SignalWatch(inbox: inbox, signals: handleSignals ? [SIGTERM, SIGINT, SIGHUP] : [SIGHUP])
        defer { signals.cancel() }

        // Cancelling the calling task (for example a service group shutting down) stops the console like `q`.
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let known = await feed.contexts()
                    inbox.post(.update(.contexts(known)))
                    if current.value == nil, let first = known.first { jobSink.yield(.follow(first)) }
                }
                if let context = configuration.context { jobSink.yield(.follow(context)) }
                group.addTask {
                    await perform(jobs, feed: feed, actions: actions, inbox: inbox, current: current, logger: logger)
                }
                try await runLoop(configuration: configuration, inbox: inbox, jobs: jobSink, logger: logger, makeDriver: makeDriver)
                jobSink.finish()
                group.cancelAll()
            }
        } onCancel: {
            inbox.post(.stop)
        }
    }

    /// Work handed from the UI thread to the async side.
    enum Job: Sendable {
        case effect(ConsoleEffect)
        case write(path: String, text: String, lines: Int, node: String)
        case follow(ContextID)
    }

    private static func runLoop(
        configuration: ConsoleConfiguration,
        inbox: ConsoleInbox,
        jobs: AsyncStream<Job>.Continuation,
        logger: Logger,
        makeDriver: @escaping @Sendable () -> any TerminalDriver
    ) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                let driver = makeDriver()
                let first = configuration.themes.load(configuration.options.themeName)
                if let problem = first.problem { logger.warning("theme not usable", metadata: ["problem": "\(problem)"]) }
                var options = configuration.options
                options.themeNames = configuration.themes.names()
                let session = ConsoleSession(broker: configuration.broker, options: options, screen: ScreenSize(width: 80, height: 24))
                let loop = ConsoleLoop(
                    session: session,
                    driver: driver,
                    inbox: inbox,
                    theme: first.theme,
                    colorsDisabled: configuration.colorsDisabled,
                    loadTheme: { configuration.themes.load($0) },
                    logger: logger
                ) { effect, model in
                    if case .saveOutput(let node, let path) = effect, let index = model.index(ofNode: node) {
                        let lines = model.output(of: index)
                        jobs.yield(.write(path: path, text: OutputExport.text(node: node, lines: lines), lines: lines.count, node: node))
                    } else {
                        jobs.yield(.effect(effect))
                    }
                }
                if let problem = first.problem { inbox.post(.input(.actionFailed(problem.description))) }
                do {
                    try loop.run()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "muster-console"
            thread.start()
        }
    }

    private static func perform(
        _ jobs: AsyncStream<Job>,
        feed: some ConsoleFeed,
        actions: some ConsoleActions,
        inbox: ConsoleInbox,
        current: CurrentContext,
        logger: Logger
    ) async {
        var following: Task<Void, Never>?
        defer { following?.cancel() }
        /// Stops following the shown context and follows `id` instead.
        func follow(_ id: ContextID) {
            following?.cancel()
            current.value = id
            following = Task {
                for await update in feed.updates(for: id) {
                    if Task.isCancelled { break }
                    inbox.post(.update(update))
                }
            }
        }
        for await job in jobs {
            let context = current.value
            switch job {
            case .follow(let id):
                follow(id)
            case .write(let path, let text, let count, let node):
                do {
                    try text.write(toFile: path, atomically: true, encoding: .utf8)
                    inbox.post(.input(.actionSucceeded("saved \(count) lines of \(node) to \(path)")))
                } catch {
                    inbox.post(.input(.actionFailed("cannot save \(node)'s output to \(path): \(error.localizedDescription)")))
                }
            case .effect(let effect):
                let result = await carryOut(effect, context: context, actions: actions, logger: logger)
                if case .switchContext(let id) = effect { follow(id) }
                if case .launched(let id, _) = result { follow(id) }
                inbox.post(.input(result.input))
            }
        }
    }

    private enum Outcome {
        case done(String)
        case launched(ContextID, String)
        case failed(String)

        var input: ConsoleInput {
            switch self {
            case .done(let message), .launched(_, let message): .actionSucceeded(message)
            case .failed(let message): .actionFailed(message)
            }
        }
    }

    private static func carryOut(_ effect: ConsoleEffect, context: ContextID?, actions: some ConsoleActions, logger: Logger) async -> Outcome {
        do {
            switch effect {
            case .launch(let path):
                let id = try await actions.launch(documentAt: path)
                return .launched(id, "launched context \(id) from \(path)")
            case .switchContext(let id):
                return .done("showing context \(id)")
            default:
                guard let context else { return .failed("no context is shown yet") }
                switch effect {
                case .addNodes(let workspace, let count):
                    try await actions.addNodes(context: context, workspace: workspace, count: count)
                    return .done("adding \(count) node\(count == 1 ? "" : "s") to \(workspace)")
                case .retry(let node):
                    try await actions.retry(context: context, node: node)
                    return .done("retrying \(node)")
                case .retryFailed(let workspace, let nodes):
                    var failures: [String] = []
                    for node in nodes {
                        do { try await actions.retry(context: context, node: node) } catch { failures.append("\(node): \(error)") }
                    }
                    if failures.isEmpty { return .done("retrying \(nodes.count) node\(nodes.count == 1 ? "" : "s") of \(workspace)") }
                    return .failed("retry of \(failures.count) of \(nodes.count) nodes of \(workspace) failed: \(failures.joined(separator: "; "))")
                case .kill(let node):
                    try await actions.kill(context: context, node: node)
                    return .done("killing \(node)")
                default:
                    return .failed("\(effect) is handled by the console itself")
                }
            }
        } catch {
            logger.warning("action failed", metadata: ["effect": "\(effect)", "error": "\(error)"])
            return .failed("\(describe(effect)) failed: \(error)")
        }
    }

    private static func describe(_ effect: ConsoleEffect) -> String {
        switch effect {
        case .launch(let path): "launch of \(path)"
        case .addNodes(let workspace, _): "adding nodes to \(workspace)"
        case .retry(let node): "retry of \(node)"
        case .retryFailed(let workspace, _): "retry of \(workspace)"
        case .kill(let node): "kill of \(node)"
        case .switchContext(let id): "switch to \(id)"
        case .saveOutput(let node, _): "saving \(node)'s output"
        case .setTheme(let name): "theme \(name)"
        case .quit: "quit"
        }
    }
}

/// Turns SIGTERM, SIGINT and SIGHUP into a `.stop` message, so the loop ends and restores the terminal.
final class SignalWatch {
    private let sources: [any DispatchSourceSignal]

    private let numbers: [Int32]

    init(inbox: ConsoleInbox, signals numbers: [Int32]) {
        self.numbers = numbers
        var sources: [any DispatchSourceSignal] = []
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { inbox.post(.stop) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
        for number in numbers { signal(number, SIG_DFL) }
    }
}

/// The context shown, shared between the UI thread and the async side.
final class CurrentContext: Sendable {
    private let storage: Mutex<ContextID?>

    init(_ initial: ContextID?) {
        storage = Mutex(initial)
    }

    var value: ContextID? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
