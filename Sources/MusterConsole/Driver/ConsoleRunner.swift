import Dispatch
import Foundation
import Logging
import MusterCore
import Synchronization

/// How a console session starts.
public struct ConsoleConfiguration: Sendable {
    /// The broker address shown in the header.
    public var broker: String
    /// The context to show; nil opens the contexts view.
    public var context: ContextID?
    /// Read-only, quit behaviour, themes, glyphs.
    public var options: ConsoleOptions
    /// Where themes come from.
    public var themes: ThemeCatalog
    /// Draw without colours (`NO_COLOR`).
    public var colorsDisabled: Bool
    /// How to open a shell on a node, and the user's own commands (nil: `s` says it cannot).
    public var commands: NodeCommands?
    /// Where the command-line history is kept across runs (nil: not kept).
    public var historyFile: String?
    /// Problems to show in the status line once the console runs (a bad config file).
    public var notices: [String]
    /// Seconds between redraws of an idle screen (nil: one).
    public var refresh: Double?

    /// Creates a configuration.
    public init(
        broker: String,
        context: ContextID?,
        options: ConsoleOptions,
        themes: ThemeCatalog,
        colorsDisabled: Bool,
        commands: NodeCommands? = nil,
        historyFile: String? = nil,
        notices: [String] = [],
        refresh: Double? = nil
    ) {
        self.broker = broker
        self.context = context
        self.options = options
        self.themes = themes
        self.colorsDisabled = colorsDisabled
        self.commands = commands
        self.historyFile = historyFile
        self.notices = notices
        self.refresh = refresh
    }
}

/// Runs the console: the UI loop on a thread of its own (all curses calls happen there), the feed and the
/// actions in async tasks that talk to the loop only through a ``ConsoleInbox``.
///
/// ```swift
/// try await ConsoleRunner.run(configuration: configuration, feed: ClientConsoleFeed(client: client, logger: logger),
///                             actions: ClientConsoleActions(client: client), logger: fileLogger)
/// ```
public enum ConsoleRunner {
    /// How often the list of contexts is refreshed while the contexts view is shown.
    public static let contextsRefresh: Duration = .seconds(2)

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
                    if let known = await feed.contexts() { inbox.post(.update(.contexts(known))) }
                    if let launcher = await feed.launcher() { inbox.post(.update(.launcher(launcher))) }
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
        case demand(ConsoleDemand)
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
                var session = ConsoleSession(broker: configuration.broker, options: options, screen: ScreenSize(width: 80, height: 24))
                if configuration.context == nil { session.show(.contexts) }
                if let file = configuration.historyFile { session.setHistory(CommandHistory.load(from: file)) }
                let loop = ConsoleLoop(
                    session: session,
                    driver: driver,
                    inbox: inbox,
                    theme: first.theme,
                    colorsDisabled: configuration.colorsDisabled,
                    loadTheme: { configuration.themes.load($0) },
                    logger: logger,
                    commands: configuration.commands,
                    tick: configuration.refresh ?? 1,
                    demand: { jobs.yield(.demand($0)) }
                ) { effect, model in
                    if case .saveOutput(let node, let path) = effect, let index = model.index(ofNode: node) {
                        let lines = model.output(of: index)
                        jobs.yield(.write(path: path, text: OutputExport.text(node: node, lines: lines), lines: lines.count, node: node))
                    } else {
                        jobs.yield(.effect(effect))
                    }
                }
                if let problem = first.problem { inbox.post(.input(.actionFailed(problem.description))) }
                for notice in configuration.notices { inbox.post(.input(.actionFailed(notice))) }
                do {
                    try loop.run()
                    if let file = configuration.historyFile { loop.session.state.history.save(to: file) }
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
        var output: (demand: OutputDemand, task: Task<Void, Never>)?
        var contexts: Task<Void, Never>?
        defer {
            following?.cancel()
            output?.task.cancel()
            contexts?.cancel()
        }
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
        /// Keeps open exactly what the console shows: one node's output, the list of contexts.
        func meet(_ demand: ConsoleDemand) {
            if output?.demand != demand.output {
                output?.task.cancel()
                output = demand.output.map { wanted in
                    (
                        wanted,
                        Task {
                            for await update in feed.output(of: wanted.node, in: wanted.context, attempt: wanted.attempt, live: wanted.live) {
                                if Task.isCancelled { break }
                                inbox.post(.update(update))
                            }
                        }
                    )
                }
            }
            if demand.contexts && contexts == nil {
                contexts = Task {
                    while !Task.isCancelled {
                        if let known = await feed.contexts() { inbox.post(.update(.contexts(known))) }
                        try? await Task.sleep(for: contextsRefresh)
                    }
                }
            } else if !demand.contexts {
                contexts?.cancel()
                contexts = nil
            }
        }
        for await job in jobs {
            let context = current.value
            switch job {
            case .follow(let id):
                follow(id)
            case .demand(let demand):
                meet(demand)
            case .write(let path, let text, let count, let node):
                inbox.post(.input(Self.save(text, to: path, lines: count, node: node)))
            case .effect(let effect):
                let result = await carryOut(effect, context: context, actions: actions, logger: logger)
                if case .switchContext(let id) = effect { follow(id) }
                if case .launched(let id, _) = result { follow(id) }
                inbox.post(.input(result.input))
            }
        }
    }

    /// Writes a node's output to `path`; the outcome is one line for the status line, and a missing folder is
    /// named as such (not as a file that does not exist).
    static func save(_ text: String, to path: String, lines count: Int, node: String) -> ConsoleInput {
        let folder = (path as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) || !isFolder.boolValue {
            return .actionFailed("cannot save \(node)'s output to \(path): there is no folder \(folder)")
        }
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return .actionSucceeded("saved \(Plural.count(count, "line")) of \(node) to \(path)")
        } catch {
            return .actionFailed("cannot save \(node)'s output to \(path): \(Self.reason(error))")
        }
    }

    /// A file error in a few words (`no such file or folder`), not Foundation's domain and code.
    static func reason(_ error: any Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let code = underlying?.code, underlying?.domain == NSPOSIXErrorDomain, let text = strerror(Int32(code)) {
            return String(cString: text).lowercased()
        }
        switch (error as NSError).code {
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or folder"
        case NSFileWriteNoPermissionError, NSFileReadNoPermissionError: return "permission denied"
        default: return "\(error)"
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
                    return .done("adding \(Plural.count(count, "node")) to \(workspace)")
                case .retry(let node):
                    try await actions.retry(context: context, node: node)
                    return .done("retrying \(node)")
                case .kill(let node):
                    try await actions.kill(context: context, node: node)
                    return .done("killing \(node)")
                case .retryNodes(let nodes, let what):
                    return await each(nodes, verb: "retry", doing: "retrying", what: what) { try await actions.retry(context: context, node: $0) }
                case .killNodes(let nodes, let what):
                    return await each(nodes, verb: "kill", doing: "killing", what: what) { try await actions.kill(context: context, node: $0) }
                case .removeNodes(let nodes, let running, let what):
                    // A running node is killed first (the broker removes only slots with nothing running).
                    return await each(nodes, verb: "remove", doing: "removed", what: what) { node in
                        if running.contains(node) { try await actions.kill(context: context, node: node) }
                        try await actions.removeNode(context: context, node: node)
                    }
                default:
                    return .failed("\(effect) is handled by the console itself")
                }
            }
        } catch let error as ClusterFile.ReadError {
            return .failed(error.description)
        } catch {
            logger.warning("action failed", metadata: ["effect": "\(effect)", "error": "\(error)"])
            return .failed("\(describe(effect)) failed: \(error)")
        }
    }

    /// Does one action per node, one after the other, and says how it went in one line.
    private static func each(
        _ nodes: [String],
        verb: String,
        doing: String,
        what: String,
        _ action: (String) async throws -> Void
    ) async -> Outcome {
        var failures: [String] = []
        for node in nodes {
            do { try await action(node) } catch { failures.append("\(node): \(error)") }
        }
        if failures.isEmpty { return .done("\(doing) \(what)") }
        return .failed("\(verb) of \(failures.count) of \(Plural.count(nodes.count, "node")) failed: \(failures.joined(separator: "; "))")
    }

    private static func describe(_ effect: ConsoleEffect) -> String {
        switch effect {
        case .launch(let path): "launch of \(path)"
        case .addNodes(let workspace, _): "adding nodes to \(workspace)"
        case .retry(let node): "retry of \(node)"
        case .retryNodes(_, let what): "retry of \(what)"
        case .kill(let node): "kill of \(node)"
        case .killNodes(_, let what): "kill of \(what)"
        case .removeNodes(_, _, let what): "removal of \(what)"
        case .switchContext(let id): "switch to \(id)"
        case .saveOutput(let node, _): "saving \(node)'s output"
        case .setTheme(let name): "theme \(name)"
        case .shell(let node): "shell on \(node)"
        case .userCommand(let command, let node): "\(command.name) on \(node)"
        case .copy: "copy"
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
