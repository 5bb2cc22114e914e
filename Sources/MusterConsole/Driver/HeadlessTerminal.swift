/// An in-memory terminal for tests: inputs are queued by the test, drawing goes into a ``CellGrid``, and
/// every wait returns at once (tests never sleep).
public final class HeadlessTerminal: TerminalDriver {
    /// The screen size; ``resize(to:)`` changes it and queues the resize input.
    public private(set) var size: ScreenSize
    /// What the terminal shows.
    public private(set) var screen: CellGrid
    /// Whether it reports colours.
    public var supportsColor = true
    /// Whether it reports Unicode.
    public var supportsUnicode = true
    /// Cells written so far.
    public private(set) var cellsWritten = 0
    /// Draw calls so far.
    public private(set) var draws = 0
    /// Draw calls that repainted everything.
    public private(set) var fullRepaints = 0
    /// The timeouts the loop waited with, in order.
    public private(set) var waits: [Double?] = []
    /// The themes applied, in order.
    public private(set) var themes: [Theme] = []
    /// Whether ``start()`` ran and ``stop()`` did not yet.
    public private(set) var isStarted = false
    private var queued: [[ConsoleInput]] = []

    /// Creates a terminal of a size.
    public init(size: ScreenSize) {
        self.size = size
        screen = CellGrid(size: size)
    }

    /// Queues inputs that the next wait returns together.
    public func type(_ inputs: ConsoleInput...) {
        queued.append(inputs)
    }

    /// Changes the size and queues the resize input, as a terminal does on SIGWINCH.
    public func resize(to newSize: ScreenSize) {
        size = newSize
        queued.append([.resize(newSize)])
    }

    /// Whether ``hangUp()`` was called.
    public private(set) var hasHungUp = false

    /// Goes away as a closed terminal window does.
    public func hangUp() { hasHungUp = true }

    /// Text put on the clipboard, in order.
    public private(set) var clipboard: [String] = []
    /// How many times the terminal was given to another program.
    public private(set) var suspensions = 0

    public func start() throws { isStarted = true }

    public func suspend() {
        suspensions += 1
        isStarted = false
    }

    public func resume() { isStarted = true }

    public func copyToClipboard(_ text: String) { clipboard.append(text) }

    public func stop() { isStarted = false }

    public func apply(_ theme: Theme) { themes.append(theme) }

    public func waitForInput(timeout: Double?, wakeUp: WakeUpPipe) -> [ConsoleInput] {
        waits.append(timeout)
        wakeUp.drain()
        return queued.isEmpty ? [] : queued.removeFirst()
    }

    public func draw(_ update: FrameUpdate) {
        draws += 1
        if update.fullRepaint || update.size != screen.size {
            fullRepaints += 1
            screen = CellGrid(size: update.size)
        }
        var copy = screen
        for run in update.runs {
            for (offset, cell) in run.cells.enumerated() where cell.width != 0 {
                copy.draw(String(cell.character), x: run.x + offset, y: run.y, style: cell.style)
                cellsWritten += 1
            }
        }
        screen = copy
    }
}
