import CNcurses
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The real terminal, through ncursesw: the only file that makes curses calls.
///
/// `start()` sets the locale (for wide characters), enters raw mode without echo, enables the keypad and the
/// mouse, and sets up one colour pair per ``StyleRole`` from the theme (the theme's RGB colours map to the
/// nearest colour the terminal has). Cells are written one by one at explicit positions with `setcchar` and
/// `mvwadd_wch`, so a terminal that measures a character differently cannot shift the rest of the row.
/// The terminal is restored by `stop()`, at exit, and on fatal signals (see `shim.h`).
public final class NcursesTerminal: TerminalDriver {
    public private(set) var supportsColor = false
    public private(set) var supportsUnicode = false
    public private(set) var hasHungUp = false
    private var started = false
    private var attributes: [attr_t] = Array(repeating: 0, count: StyleRole.allCases.count)
    private var pairs: [Int16] = Array(repeating: 0, count: StyleRole.allCases.count)

    /// Creates the driver; nothing happens to the terminal before ``start()``.
    public init() {}

    public var size: ScreenSize { ScreenSize(width: Int(muster_cols()), height: Int(muster_lines())) }

    public func start() throws {
        guard !started else { return }
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw TerminalError.notATerminal }
        setlocale(LC_ALL, "")
        let codeset = String(cString: nl_langinfo(nl_item(CODESET))).uppercased()
        supportsUnicode = codeset == "UTF-8" || codeset == "UTF8"
        muster_install_terminal_guards()
        guard initscr() != nil else { throw TerminalError.cannotInitialize }
        started = true
        raw()
        noecho()
        nonl()
        keypad(muster_stdscr(), true)
        if let term = ProcessInfo.processInfo.environment["TERM"], TerminalCapability.isDumb(term) {
            muster_restore_terminal()
            started = false
            throw TerminalError.dumbTerminal(term)
        }
        curs_set(0)
        set_escdelay(25)
        mousemask(muster_button1_any() | muster_wheel_mask(), nil)
        mouseinterval(0)
        if has_colors() {
            start_color()
            use_default_colors()
            supportsColor = muster_colors() >= 8
        }
    }

    public func stop() {
        guard started else { return }
        started = false
        curs_set(1)
        muster_restore_terminal()
    }

    public func suspend() {
        guard started else { return }
        curs_set(1)
        def_prog_mode()
        endwin()
    }

    public func resume() {
        guard started else { return }
        reset_prog_mode()
        curs_set(0)
        wrefresh(muster_stdscr())
    }

    public func copyToClipboard(_ text: String) {
        let sequence = ClipboardSequence.osc52(text)
        _ = sequence.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
    }

    public func apply(_ theme: Theme) {
        let colors = Int(muster_colors())
        for role in StyleRole.allCases {
            let style = theme.style(role)
            var attribute: attr_t = 0
            if style.bold { attribute |= attr_t(muster_a_bold()) }
            if style.underline { attribute |= attr_t(muster_a_underline()) }
            if style.reverse { attribute |= attr_t(muster_a_reverse()) }
            if style.dim { attribute |= attr_t(muster_a_dim()) }
            attributes[Int(role.rawValue)] = attribute
            guard supportsColor else { continue }
            let pair = Int16(role.rawValue) + 1
            let foreground = Int16(style.foreground.paletteIndex(colors: colors))
            let background = Int16(style.background.paletteIndex(colors: colors))
            init_pair(pair, foreground, background)
            pairs[Int(role.rawValue)] = pair
        }
    }

    public func waitForInput(timeout: Double?, wakeUp: WakeUpPipe) -> [ConsoleInput] {
        var descriptors = [
            pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeUp.readDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        let milliseconds = timeout.map { Int32(min(max(0, $0 * 1000).rounded(.up), 60_000)) } ?? -1
        muster_watch_resize(wakeUp.writeDescriptor)
        _ = poll(&descriptors, 2, milliseconds)
        // Standard input hung up: every later poll returns at once, and no key can come any more.
        if descriptors[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
            hasHungUp = true
            return []
        }
        // A resize arrives as SIGWINCH, on whichever thread the kernel picks: ncurses' handler notes it and the
        // shim's wakes this poll through the wake-up pipe; get_wch then reports KEY_RESIZE. So keys are read after
        // every wake-up (and every timeout: it costs nothing), not only when standard input is readable, and the
        // pipe is emptied *before* they are read: a SIGWINCH that lands after the read leaves its byte for the
        // next poll, where emptying the pipe after the read would drop it and leave the resize waiting for a key.
        wakeUp.drain()
        return readKeys()
    }

    private func readKeys() -> [ConsoleInput] {
        var inputs: [ConsoleInput] = []
        wtimeout(muster_stdscr(), 0)
        while inputs.count < 256 {
            var character: wint_t = 0
            let result = wget_wch(muster_stdscr(), &character)
            if result == ERR { break }
            if result == muster_key_code_yes() {
                if let input = special(Int32(character)) { inputs.append(input) }
            } else if let input = KeyDecoding.input(forCharacter: UInt32(character)) {
                inputs.append(input)
            }
        }
        return inputs
    }

    private func special(_ code: Int32) -> ConsoleInput? {
        switch code {
        case muster_key_resize(): return .resize(size)
        case muster_key_mouse():
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            let state = mmask_t(event.bstate)
            if state & muster_button4_pressed() != 0 { return .mouse(MouseEvent(.wheelUp, x: Int(event.x), y: Int(event.y))) }
            if state & muster_button5_pressed() != 0 { return .mouse(MouseEvent(.wheelDown, x: Int(event.x), y: Int(event.y))) }
            if state & muster_button1_any() != 0 { return .mouse(MouseEvent(.click, x: Int(event.x), y: Int(event.y))) }
            return nil
        case muster_key_up(): return .key(.up)
        case muster_key_down(): return .key(.down)
        case muster_key_left(): return .key(.left)
        case muster_key_right(): return .key(.right)
        case muster_key_npage(): return .key(.pageDown)
        case muster_key_ppage(): return .key(.pageUp)
        case muster_key_home(): return .key(.home)
        case muster_key_end(): return .key(.end)
        case muster_key_backspace(): return .key(.backspace)
        case muster_key_enter(): return .key(.enter)
        case muster_key_dc(): return .key(.delete)
        case muster_key_btab(): return .key(.backTab)
        case (muster_key_f0() + 1)...(muster_key_f0() + 12): return .key(.function(Int(code - muster_key_f0())))
        default: return nil
        }
    }

    public func draw(_ update: FrameUpdate) {
        guard started else { return }
        let window = muster_stdscr()
        if update.fullRepaint { werase(window) }
        for run in update.runs {
            for (offset, cell) in run.cells.enumerated() where cell.width != 0 {
                put(cell, x: run.x + offset, y: run.y, window: window)
            }
        }
        wnoutrefresh(window)
        doupdate()
    }

    private func put(_ cell: Cell, x: Int, y: Int, window: UnsafeMutablePointer<WINDOW>?) {
        var characters: [wchar_t] = cell.character.unicodeScalars.prefix(4).map { wchar_t(bitPattern: $0.value) }
        if !supportsUnicode, characters.contains(where: { $0 > 0x7E }) { characters = [wchar_t(UInt8(ascii: "?"))] }
        characters.append(0)
        var complex = cchar_t()
        let role = Int(cell.style.rawValue)
        characters.withUnsafeBufferPointer { buffer in
            _ = setcchar(&complex, buffer.baseAddress, attributes[role], pairs[role], nil)
        }
        // Writing the bottom-right cell reports an error (the cursor cannot advance) but draws the cell.
        _ = mvwadd_wch(window, Int32(y), Int32(x), &complex)
    }
}

/// Why the terminal could not be taken over.
public enum TerminalError: Error, Sendable, CustomStringConvertible {
    /// Standard input or output is not a terminal.
    case notATerminal
    /// ncurses could not initialise the terminal (unknown `TERM`?).
    case cannotInitialize
    /// The terminal cannot move its cursor (`TERM=dumb`).
    case dumbTerminal(String)

    public var description: String {
        switch self {
        case .notATerminal: "the console needs a terminal (standard input and output are not one)"
        case .cannotInitialize: "the terminal could not be initialised (is TERM set to a known terminal?)"
        case .dumbTerminal(let term): TerminalCapability.refusal(term: term)
        }
    }
}

/// Decodes characters that ncurses returns as plain characters into keys.
enum KeyDecoding {
    static func input(forCharacter value: UInt32) -> ConsoleInput? {
        switch value {
        case 9: return .key(.tab)
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 8, 127: return .key(.backspace)
        case 1...26: return .key(.control(Character(Unicode.Scalar(value + 96)!)))
        default:
            guard let scalar = Unicode.Scalar(value) else { return nil }
            return .key(.character(Character(scalar)))
        }
    }
}
