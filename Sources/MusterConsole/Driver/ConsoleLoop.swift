import Foundation
import Logging

/// The console's UI loop: owns the terminal driver, and so every curses call, on the thread that runs it.
///
/// Each turn waits for terminal input, a wake-up from the ``ConsoleInbox``, or the ``FramePacer``'s
/// deadline; applies every input and every posted update; and, when a frame is due, renders the session and
/// writes only the cells that changed. Many updates between two frames cost one frame; a console with nothing
/// to show blocks in `poll` and uses no CPU.
public final class ConsoleLoop {
    /// The console's state.
    public private(set) var session: ConsoleSession
    /// The theme in use.
    public private(set) var theme: Theme
    /// Frames written to the terminal (frames with no changed cell are not written).
    public private(set) var framesDrawn = 0
    /// Frames rendered (including ones that changed nothing on screen).
    public private(set) var framesRendered = 0
    /// Cells written to the terminal.
    public private(set) var cellsWritten = 0
    /// Whether the loop has finished (quit, or asked to stop).
    public private(set) var isFinished = false

    private let driver: any TerminalDriver
    private let inbox: ConsoleInbox
    private let loadTheme: (String) -> ThemeLoadResult
    private let perform: (ConsoleEffect, ConsoleModel) -> Void
    private let now: () -> Date
    private let logger: Logger
    private let colorsDisabled: Bool
    private let commands: NodeCommands?
    private let demand: (ConsoleDemand) -> Void
    private var pacer = FramePacer()
    private var previous: CellGrid?
    private var lastDemand: ConsoleDemand?

    /// Creates a loop.
    ///
    /// - Parameters:
    ///   - session: the console to run.
    ///   - driver: the terminal.
    ///   - inbox: where other threads post updates and action results.
    ///   - theme: the theme to start with.
    ///   - colorsDisabled: draw without colours (`NO_COLOR`).
    ///   - loadTheme: loads a theme by name for `t` and `:theme`.
    ///   - logger: where the loop logs (never the screen).
    ///   - now: the clock (tests pass a fixed one).
    ///   - commands: how to run a shell or a user command for a node (nil: not available).
    ///   - tick: how often to redraw when nothing changes (clocks on screen advance).
    ///   - demand: told whenever what the console shows needs different data (a node's output, the list of
    ///     contexts); called on the loop's thread, it must hand the work off and return at once.
    ///   - perform: carries out an effect other than quitting, theme changes and terminal work; called on the
    ///     loop's thread, it must hand the work off and return at once (results come back through the inbox).
    public init(
        session: ConsoleSession,
        driver: any TerminalDriver,
        inbox: ConsoleInbox,
        theme: Theme,
        colorsDisabled: Bool = false,
        loadTheme: @escaping (String) -> ThemeLoadResult,
        logger: Logger,
        now: @escaping () -> Date = Date.init,
        commands: NodeCommands? = nil,
        tick: TimeInterval = 1,
        demand: @escaping (ConsoleDemand) -> Void = { _ in },
        perform: @escaping (ConsoleEffect, ConsoleModel) -> Void
    ) {
        self.session = session
        self.driver = driver
        self.inbox = inbox
        self.theme = theme
        self.colorsDisabled = colorsDisabled
        self.loadTheme = loadTheme
        self.logger = logger
        self.now = now
        self.commands = commands
        self.demand = demand
        self.perform = perform
        pacer.tickInterval = max(0.1, tick)
    }

    /// Takes the terminal, runs turns until the console quits or is stopped, and gives the terminal back.
    public func run() throws {
        try driver.start()
        defer { driver.stop() }
        prepare()
        while turn() {}
    }

    /// Adapts the session to the terminal (size, symbols, colours). `run()` calls it; tests may call it
    /// before stepping with ``turn()``.
    public func prepare() {
        var options = session.state.options
        if !driver.supportsUnicode { options.glyphs = .ascii }
        session.setOptions(options)
        _ = session.handle(.resize(driver.size), at: now())
        driver.apply(effectiveTheme)
        previous = nil
        pacer.markDirty()
    }

    /// One turn of the loop; returns false once the console is finished.
    @discardableResult
    public func turn() -> Bool {
        guard !isFinished else { return false }
        let timeout = pacer.timeout(at: now())
        let inputs = driver.waitForInput(timeout: timeout, wakeUp: inbox.wakeUp)
        if driver.hasHungUp {
            logger.info("the terminal hung up")
            isFinished = true
            return false
        }
        for input in inputs { handle(input) }
        for message in inbox.drain() {
            switch message {
            case .update(let update):
                let delta = session.apply(update)
                if delta.changed || delta.structureChanged { pacer.markDirty() }
            case .input(let input):
                handle(input)
            case .stop:
                logger.info("console stopped from outside")
                isFinished = true
            }
        }
        guard !isFinished else { return false }
        let wanted = session.demand
        if wanted != lastDemand {
            lastDemand = wanted
            demand(wanted)
        }
        let time = now()
        if pacer.isDue(at: time) { drawFrame(at: time) }
        return !isFinished
    }

    private func handle(_ input: ConsoleInput) {
        let time = now()
        if case .resize(let size) = input {
            logger.debug("terminal resized", metadata: ["size": "\(size)"])
            pacer.resized(at: time)
        } else {
            pacer.markDirty()
        }
        for effect in session.handle(input, at: time) {
            switch effect {
            case .quit:
                isFinished = true
            case .setTheme(let name):
                let result = loadTheme(name)
                theme = result.theme
                driver.apply(effectiveTheme)
                previous = nil
                if let problem = result.problem {
                    logger.warning("theme not usable", metadata: ["problem": "\(problem)"])
                    _ = session.handle(.actionFailed(problem.description), at: time)
                }
            case .shell, .userCommand:
                runInForeground(effect, at: time)
            case .copy(let text):
                driver.copyToClipboard(text)
            default:
                logger.info("effect", metadata: ["effect": "\(effect)"])
                perform(effect, session.model)
            }
        }
    }

    /// Steps aside for a shell or a user command: the terminal is given back, the program runs in its
    /// foreground, and the console takes the terminal again and repaints.
    private func runInForeground(_ effect: ConsoleEffect, at time: Date) {
        guard let commands else {
            _ = session.handle(.actionFailed("this console cannot run commands for nodes"), at: time)
            return
        }
        let command: ForegroundCommand
        switch commands.command(for: effect, model: session.model) {
        case .success(let found): command = found
        case .failure(let problem):
            _ = session.handle(.actionFailed(problem.description), at: time)
            return
        }
        logger.info("running in the foreground", metadata: ["title": "\(command.title)"])
        driver.suspend()
        let result = ForegroundProcess.run(command)
        if command.pauseAfter { ForegroundProcess.pause() }
        driver.resume()
        previous = nil
        pacer.markDirty()
        switch result {
        case .success(0): _ = session.handle(.actionSucceeded("\(command.title) ended"), at: now())
        case .success(let status): _ = session.handle(.actionFailed("\(command.title) ended with status \(status)"), at: now())
        case .failure(let failure): _ = session.handle(.actionFailed(failure.description), at: now())
        }
    }

    private var effectiveTheme: Theme {
        colorsDisabled || !driver.supportsColor ? Theme.monochrome : theme
    }

    private func drawFrame(at time: Date) {
        let size = session.state.screen
        var grid = CellGrid(size: size)
        ConsoleRenderer.render(session.frame(at: time), into: &grid)
        framesRendered += 1
        let update = FrameDiff.update(from: previous, to: grid)
        previous = grid
        pacer.drew(at: time)
        guard !update.runs.isEmpty || update.fullRepaint else { return }
        driver.draw(update)
        framesDrawn += 1
        cellsWritten += update.cellCount
    }
}
