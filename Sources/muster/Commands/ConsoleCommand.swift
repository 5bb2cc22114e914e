import ArgumentParser
import Foundation
import Logging
import MusterClient
import MusterConsole
import MusterCore

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Attach the live console to a running broker (or render one view of it to a file).",
        discussion: """
            The console shows the workspace tree, who waits on whom, each node's script output as it happens, \
            and lets you launch, retry or kill nodes from the keyboard (? lists every key). It talks to the \
            broker only through its HTTP API; --readonly disables every action.

            --snapshot FILE renders one view to FILE without a terminal: .svg (with colours) or .txt.

            Examples:
              muster console
              muster console --broker http://10.0.0.5:7077 --token-file ~/.muster-token --context cpe-3f9a
              muster console --snapshot tree.svg --size 120x40
              muster console --snapshot detail.svg --view detail --node scheduler-0
            """
    )

    @Option(help: "The context to show (default: the broker's only live context, or the first).")
    var context: String?

    @Flag(help: "Disable every action (launch, scale, retry, kill).")
    var readonly = false

    @Option(help: ArgumentHelp("Theme name (default: $MUSTER_THEME, then dark).", valueName: "name"))
    var theme: String?

    @Option(help: ArgumentHelp("Render one view to this file (.svg or .txt) instead of running interactively.", valueName: "file"))
    var snapshot: String?

    @Option(help: ArgumentHelp("With --snapshot: tree, detail, waits, events or help.", valueName: "view"))
    var view: SnapshotView = .tree

    @Option(help: ArgumentHelp("With --snapshot --view detail: the node to show.", valueName: "node"))
    var node: String?

    @Option(help: ArgumentHelp("With --snapshot: the screen size, COLSxROWS.", valueName: "size"))
    var size = "120x40"

    @Option(help: ArgumentHelp("What to log to <state>/console.log: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: Logger.Level = .info

    @OptionGroup var brokerOptions: BrokerOptions

    enum SnapshotView: String, ExpressibleByArgument, CaseIterable {
        case tree, detail, waits, events, help
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let catalog = ThemeCatalog(
            folders: ThemeCatalog.standardFolders(
                repositoryThemes: Installation.themesFolder().map { URL(fileURLWithPath: $0) },
                environment: environment
            )
        )
        let options = ConsoleOptions(
            readOnly: readonly,
            themeNames: catalog.names(),
            themeName: ThemeChoice.name(flag: theme, environment: environment),
            timeZone: .current
        )
        let state = brokerOptions.stateFolder
        let logPath = (state as NSString).appendingPathComponent("console.log")
        let sink: FileLogHandler.Sink
        do {
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            sink = try FileLogHandler.Sink(path: logPath)
        } catch {
            throw CommandFailure.report(CommandFailure(ExitCodes.cannotCreate, "cannot write the log \(logPath): \(error.localizedDescription)"))
        }
        var logger = Logger(label: "muster.console") { FileLogHandler(label: $0, sink: sink) }
        logger.logLevel = logLevel
        let url: String
        do { url = try brokerOptions.url() } catch { throw CommandFailure.report(error) }
        try await WithBroker.run(brokerOptions) { client in
            let id = try await ContextReference.resolve(context, client: client)
            if let snapshot {
                try await renderSnapshot(to: snapshot, client: client, context: id, url: url, options: options, catalog: catalog)
                return
            }
            guard isatty(STDOUT_FILENO) == 1, isatty(STDIN_FILENO) == 1 else {
                throw ValidationError("the console needs a terminal; use `muster status` or `muster events --follow` in scripts")
            }
            try await ConsoleRunner.run(
                configuration: ConsoleConfiguration(
                    broker: url,
                    context: id,
                    options: options,
                    themes: catalog,
                    colorsDisabled: ThemeChoice.colorsDisabled(environment: environment)
                ),
                feed: ClientConsoleFeed(client: client, logger: logger),
                actions: ClientConsoleActions(client: client),
                logger: logger
            )
        }
    }

    /// Renders one view of the context as the console would draw it, and writes it as SVG or text.
    private func renderSnapshot(
        to path: String,
        client: OperatorClient,
        context: ContextID,
        url: String,
        options: ConsoleOptions,
        catalog: ThemeCatalog
    ) async throws {
        let parts = size.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 40, parts[1] >= 10 else { throw ValidationError("--size must be COLSxROWS, at least 40x10") }
        var session = ConsoleSession(broker: url, options: options, screen: ScreenSize(width: parts[0], height: parts[1]))
        let picture = try await client.snapshot(of: context)
        guard let snapshot = picture.contexts.first else { throw ValidationError("no context \(context)") }
        _ = session.apply(.snapshot(snapshot))
        _ = session.apply(.connection(.connected))
        let now = Date()
        func press(_ keys: Key...) { for key in keys { _ = session.handle(.key(key), at: now) } }
        switch view {
        case .tree:
            break
        case .waits:
            press(.character("2"))
        case .events:
            var after: UInt64 = 0
            // The stored events, so that the view has something to show.
            var events: [ContextEvent] = []
            for try await element in client.events(context: context, after: 0) {
                guard case .event(let event) = element else { continue }
                events.append(event)
                after = event.sequence
                if after >= picture.sequence { break }
            }
            _ = session.apply(.events(events))
            press(.character("3"))
        case .help:
            press(.character("?"))
        case .detail:
            let name = node ?? snapshot.nodes.first?.name ?? ""
            guard let index = session.model.index(ofNode: name), let row = session.state.tree.index(of: .node(index), session.model) else {
                throw ValidationError("no node '\(name)' in \(context)")
            }
            let page = try await client.output(of: name, in: context, from: 0, limit: 5_000)
            _ = session.apply(.output(node: name, lines: page.lines))
            press(.character("g"))
            for _ in 0..<row { press(.down) }
            press(.enter)
        }
        let grid = ConsoleRenderer.render(session.frame(at: now))
        let text: String
        if path.hasSuffix(".svg") {
            text = SVGSnapshot.svg(grid, theme: catalog.load(options.themeName).theme)
        } else {
            text = TextSnapshot.text(grid)
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        Output.line("wrote \(path) (\(view.rawValue), \(parts[0])x\(parts[1]))")
    }
}
