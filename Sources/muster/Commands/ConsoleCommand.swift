import ArgumentParser
import Foundation
import Logging
import MusterClient
import MusterConsole
import MusterCore
import MusterLaunch

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Attach the live console to a running broker (or render one view of it to a file).",
        discussion: """
            The console shows every context on the broker (0), the workspace tree (1), who waits on whom (2), \
            the event log (3), the boot as a timeline with its critical chain (4) and each node's script output \
            as it happens; it launches, retries and kills nodes (one or many: Space marks), and opens a shell on \
            a node (s). ? lists every key. It talks to the broker only through its HTTP API; --readonly disables \
            every action. Without --context it opens the broker's only live context, or the contexts view when \
            there are several (or none); in the tree, C lists every other context below the shown one.

            Settings and hotkeys of your own: $XDG_CONFIG_HOME/muster/config.yaml (theme, refresh, shell \
            commands, hotkeys that run a command with $MUSTER_NODE, $MUSTER_IP, …). The command-line history is \
            kept in $XDG_STATE_HOME/muster/console-history.

            --snapshot FILE renders one view to FILE without a terminal: .svg (with colours) or .txt; --keys \
            presses keys first (words: a character, space, enter, esc, tab, up, down, ctrl-a).

            Examples:
              muster console
              muster console --broker http://10.0.0.5:7077 \\
                --token-file ~/.muster-token --context cpe-3f9a
              muster console --snapshot tree.svg --size 120x40
              muster console --snapshot detail.svg --view detail --node scheduler-0
              muster console --snapshot timeline.svg --view timeline
              muster console --snapshot marked.svg --keys "j j space j space"
            """
    )

    @Option(help: "The context to show (default: the broker's only live context, else the contexts view).")
    var context: String?

    @Flag(help: "Disable every action (launch, scale, retry, kill).")
    var readonly = false

    @Option(help: ArgumentHelp("Theme name (default: $MUSTER_THEME, then the config file's, then dark).", valueName: "name"))
    var theme: String?

    @Option(help: ArgumentHelp("Render one view to this file (.svg or .txt) instead of running interactively.", valueName: "file"))
    var snapshot: String?

    @Option(help: ArgumentHelp("With --snapshot: contexts, tree, detail, waits, events, timeline or help.", valueName: "view"))
    var view: SnapshotView = .tree

    @Option(help: ArgumentHelp("With --snapshot --view detail: the node to show.", valueName: "node"))
    var node: String?

    @Option(help: ArgumentHelp("With --snapshot: keys to press before rendering, separated by spaces.", valueName: "keys"))
    var keys: String?

    @Option(help: ArgumentHelp("With --snapshot: the screen size, COLSxROWS.", valueName: "size"))
    var size = "120x40"

    @Option(help: ArgumentHelp("What to log to <state>/console.log: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: Logger.Level = .info

    @OptionGroup var brokerOptions: BrokerOptions

    enum SnapshotView: String, ExpressibleByArgument, CaseIterable {
        case contexts, tree, detail, waits, events, timeline, help
    }

    func run() async throws {
        try await CommandFailure.reporting {
            let environment = ProcessInfo.processInfo.environment
            if snapshot == nil {
                guard isatty(STDOUT_FILENO) == 1, isatty(STDIN_FILENO) == 1 else {
                    throw CommandFailure(ExitCodes.usage, "the console needs a terminal; use `muster status` or `muster events --follow` in scripts")
                }
                guard !TerminalCapability.isDumb(environment["TERM"]) else {
                    throw CommandFailure(ExitCodes.configuration, TerminalCapability.refusal(term: environment["TERM"]))
                }
            }
            let state = brokerOptions.stateFolder
            let logPath = (state as NSString).appendingPathComponent("console.log")
            let sink: FileLogHandler.Sink
            do {
                try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                sink = try FileLogHandler.Sink(path: logPath)
            } catch {
                throw CommandFailure(ExitCodes.cannotCreate, "cannot write the log \(logPath): \(error.localizedDescription)")
            }
            var logger = Logger(label: "muster.console") { FileLogHandler(label: $0, sink: sink) }
            logger.logLevel = logLevel
            let url = try brokerOptions.url()
            let setup = ConsoleSetup(
                flagTheme: theme,
                readOnly: readonly,
                quitStopsBroker: false,
                state: state,
                broker: url,
                environment: environment
            )
            try await WithBroker.run(brokerOptions) { client in
                let id = try await Self.initialContext(context, client: client)
                if let snapshot {
                    try await renderSnapshot(to: snapshot, client: client, context: id, url: url, setup: setup)
                    return
                }
                try await ConsoleRunner.run(
                    configuration: setup.configuration(context: id),
                    feed: ClientConsoleFeed(client: client, logger: logger),
                    actions: ClientConsoleActions(client: client),
                    logger: logger
                )
            }
        }
    }

    /// The context to open: the one named, else the only live one (or the only one); nil opens the contexts view.
    static func initialContext(_ given: String?, client: OperatorClient) async throws -> ContextID? {
        if let given { return ContextID(given) }
        let contexts = try await client.contexts()
        let live = contexts.filter { !$0.status.terminated }
        if live.count == 1 { return live[0].id }
        if live.isEmpty && contexts.count == 1 { return contexts[0].id }
        return nil
    }

    /// Renders one view of the context as the console would draw it, and writes it as SVG or text.
    private func renderSnapshot(to path: String, client: OperatorClient, context: ContextID?, url: String, setup: ConsoleSetup) async throws {
        let parts = size.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 40, parts[1] >= 10 else {
            throw CommandFailure(ExitCodes.usage, "--size must be COLSxROWS, at least 40x10")
        }
        var session = ConsoleSession(broker: url, options: setup.options, screen: ScreenSize(width: parts[0], height: parts[1]))
        _ = session.apply(.connection(.connected))
        _ = session.apply(.contexts(try await client.contexts()))
        if let launches = try? await client.health().launchesNodes { _ = session.apply(.launcher(launches ? .broker : .external)) }
        let now = Date()
        func press(_ keys: Key...) { for key in keys { _ = session.handle(.key(key), at: now) } }
        if let context {
            let picture = try await client.snapshot(of: context)
            guard let snapshot = picture.contexts.first else { throw CommandFailure(ExitCodes.notFound, "no context \(context)") }
            _ = session.apply(.snapshot(snapshot))
            // The stored events: the history the timeline and the event log show.
            _ = session.apply(.events(try await client.storedEvents(of: context, through: snapshot.sequence)))
            if view == .detail {
                let name = node ?? snapshot.nodes.first?.name ?? ""
                guard let index = session.model.index(ofNode: name), let row = session.state.tree.index(of: .node(index), session.model) else {
                    throw CommandFailure(ExitCodes.notFound, "no node '\(name)' in \(context)")
                }
                let generation = session.model.nodes[index].generation
                let lines = try await client.allOutput(of: name, in: context, generation: generation)
                _ = session.apply(.output(node: name, attempt: generation, lines: lines))
                press(.character("g"))
                for _ in 0..<row { press(.down) }
                press(.enter)
            }
        } else if view != .contexts && view != .help {
            throw CommandFailure(ExitCodes.usage, "the broker has several contexts (or none): name one with --context, or use --view contexts")
        }
        switch view {
        case .contexts: press(.character("0"))
        case .waits: press(.character("2"))
        case .events: press(.character("3"))
        case .timeline: press(.character("4"))
        case .help: press(.character("?"))
        case .tree, .detail: break
        }
        for word in (keys ?? "").split(separator: " ") {
            guard let key = Self.key(String(word)) else { throw CommandFailure(ExitCodes.usage, "--keys: '\(word)' is not a key") }
            press(key)
        }
        let grid = ConsoleRenderer.render(session.frame(at: now))
        let text: String
        if path.hasSuffix(".svg") {
            text = SVGSnapshot.svg(grid, theme: setup.catalog.load(setup.options.themeName).theme)
        } else {
            text = TextSnapshot.text(grid)
        }
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CommandFailure(ExitCodes.cannotCreate, "cannot write \(path): \(error.localizedDescription)")
        }
        Output.line("wrote \(path) (\(view.rawValue), \(parts[0])x\(parts[1]))")
    }

    /// A key named in `--keys`.
    static func key(_ word: String) -> Key? {
        switch word.lowercased() {
        case "space": .character(" ")
        case "enter": .enter
        case "esc", "escape": .escape
        case "tab": .tab
        case "up": .up
        case "down": .down
        case "left": .left
        case "right": .right
        default:
            if word.lowercased().hasPrefix("ctrl-"), word.count == 6, let character = word.last {
                .control(Character(character.lowercased()))
            } else if word.count == 1, let character = word.first {
                .character(character)
            } else {
                nil
            }
        }
    }
}

/// What `muster console` and `muster up` set the console up with: the themes, the user's config file, the shell
/// on a node and the command-line history.
struct ConsoleSetup {
    let catalog: ThemeCatalog
    let options: ConsoleOptions
    let commands: NodeCommands
    let historyFile: String?
    let colorsDisabled: Bool
    /// Problems to show in the status line once the console runs (a bad config file).
    let notices: [String]

    init(flagTheme: String?, readOnly: Bool, quitStopsBroker: Bool, state: String, broker: String, environment: [String: String]) {
        catalog = ThemeCatalog(
            folders: ThemeCatalog.standardFolders(
                repositoryThemes: Installation.themesFolder().map { URL(fileURLWithPath: $0) },
                environment: environment
            )
        )
        var config = ConsoleConfig()
        var notices: [String] = []
        if let file = ConsoleConfig.standardFile(environment: environment) {
            do { config = try ConsoleConfig.load(from: file) } catch { notices.append("\(error); the defaults are used") }
        }
        let themeFromConfigOrDefault = config.theme ?? Theme.defaultName
        let themeName = flagTheme ?? environment["MUSTER_THEME"].flatMap { $0.isEmpty ? nil : $0 } ?? themeFromConfigOrDefault
        options = ConsoleOptions(
            readOnly: readOnly,
            quitStopsBroker: quitStopsBroker,
            themeNames: catalog.names(),
            themeName: themeName,
            timeZone: .current,
            userCommands: config.hotkeys
        )
        let stateFolder = state
        commands = NodeCommands(
            broker: broker,
            localRoot: { context, node in
                ((stateFolder as NSString).appendingPathComponent(context.rawValue) as NSString).appendingPathComponent("nodes/\(node)")
            },
            localEnvironment: { root in LocalLauncher.agentEnvironment(root: root) },
            operatorEnvironment: environment,
            localShell: config.localShell,
            remoteShell: config.remoteShell,
            user: config.hotkeys
        )
        historyFile = CommandHistory.standardFile(environment: environment)
        colorsDisabled = ThemeChoice.colorsDisabled(environment: environment)
        self.notices = notices
        refresh = config.refresh
    }

    /// Seconds between redraws of an idle screen, from the config file.
    let refresh: Double?

    /// The console's configuration for a context (nil: the contexts view).
    func configuration(context: ContextID?) -> ConsoleConfiguration {
        ConsoleConfiguration(
            broker: commands.broker,
            context: context,
            options: options,
            themes: catalog,
            colorsDisabled: colorsDisabled,
            commands: commands,
            historyFile: historyFile,
            notices: notices,
            refresh: refresh
        )
    }
}
