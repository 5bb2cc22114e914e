/// A terminal the console draws on and reads keys from. The ncurses implementation is the real one;
/// ``HeadlessTerminal`` is an in-memory one for tests.
///
/// A driver is used from one thread only (the ``ConsoleLoop``'s), so it need not be `Sendable`.
public protocol TerminalDriver: AnyObject {
    /// The screen size now.
    var size: ScreenSize { get }
    /// Whether the terminal shows colours.
    var supportsColor: Bool { get }
    /// Whether the terminal's locale can show Unicode symbols.
    var supportsUnicode: Bool { get }
    /// Takes the terminal over (raw keys, no echo, mouse, colours).
    func start() throws
    /// Gives the terminal back as it was. Safe to call more than once.
    func stop()
    /// Uses a theme's colours from the next draw on.
    func apply(_ theme: Theme)
    /// Waits until terminal input arrives, `wakeUp` is signalled, or `timeout` seconds pass (nil: no limit),
    /// empties `wakeUp`, and returns the inputs read after that (possibly none). Emptying the pipe between the
    /// wait and the read is what keeps a wake-up that arrives meanwhile (a resize) from being lost.
    func waitForInput(timeout: Double?, wakeUp: WakeUpPipe) -> [ConsoleInput]
    /// Whether the terminal went away (hung up: its window closed, its tmux server ended). No key can come
    /// from it any more, so the console ends as it does on SIGHUP, which a console that gave the terminal's
    /// foreground to a shell never receives.
    var hasHungUp: Bool { get }
    /// Writes the changed cells of a frame and shows them.
    func draw(_ update: FrameUpdate)
    /// Gives the terminal back for a while (a shell runs in it); ``resume()`` takes it again.
    func suspend()
    /// Takes the terminal again after ``suspend()``; the next frame must repaint everything.
    func resume()
    /// Puts text on the terminal's clipboard (OSC 52; terminals that do not support it ignore it).
    func copyToClipboard(_ text: String)
}

extension TerminalDriver {
    public var hasHungUp: Bool { false }
}

/// The cells to write for one frame.
public struct FrameUpdate: Sendable, Hashable {
    /// Changed cells in runs along rows.
    public var runs: [CellRun]
    /// The screen must be cleared first (new size, new theme).
    public var fullRepaint: Bool
    /// The frame's size.
    public var size: ScreenSize

    /// The number of cells written.
    public var cellCount: Int { runs.reduce(0) { $0 + $1.cells.count } }
}

/// Consecutive cells of one row to write.
public struct CellRun: Sendable, Hashable {
    /// The first column.
    public var x: Int
    /// The row.
    public var y: Int
    /// The cells (continuation cells of wide graphemes included; drivers skip them).
    public var cells: [Cell]
}

/// Finds the cells that differ between two frames, like htop: an unchanged screen writes nothing.
public enum FrameDiff {
    /// The update that turns `old` into `new` (everything when there is no old frame or its size differs).
    public static func update(from old: CellGrid?, to new: CellGrid) -> FrameUpdate {
        let full = old == nil || old?.size != new.size
        var runs: [CellRun] = []
        for y in 0..<new.size.height {
            var x = 0
            while x < new.size.width {
                guard full || new[x, y] != old![x, y] else {
                    x += 1
                    continue
                }
                var start = x
                if start > 0, new[start, y].width == 0 { start -= 1 }
                var end = x + 1
                while end < new.size.width, full || new[end, y] != old![end, y] || new[end, y].width == 0 { end += 1 }
                runs.append(CellRun(x: start, y: y, cells: (start..<end).map { new[$0, y] }))
                x = end
            }
        }
        return FrameUpdate(runs: runs, fullRepaint: full, size: new.size)
    }
}
