import Foundation
import Synchronization

/// Writes values as JSON on standard output, the same way for every command.
enum JSONOutput {
    static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        Output.line(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// Whether standard output (or error) is a terminal that wants colour.
enum Terminal {
    static func wantsColor(fileDescriptor: Int32) -> Bool {
        isatty(fileDescriptor) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }
}

/// Writes lines to standard output (and error) at once, unbuffered, whole, one writer at a time.
///
/// When the reader of standard output goes away (`muster events | head -1`), the write fails with `EPIPE`
/// (the HTTP stack ignores `SIGPIPE`); then ``brokenPipe`` runs once and later lines are dropped. By default the
/// process ends quietly as if killed by `SIGPIPE` (status 141), as `cat` does; `muster up` replaces it so that
/// it stops its nodes first.
enum Output {
    private static let lock = Mutex<State>(State())

    private struct State {
        var closed = false
        var onBrokenPipe: (@Sendable () -> Void)?
    }

    /// Replaces what happens when standard output's reader has gone away.
    static func onBrokenPipe(_ handler: @escaping @Sendable () -> Void) {
        lock.withLock { $0.onBrokenPipe = handler }
    }

    static func line(_ text: String) {
        let written = lock.withLock { state in state.closed || write(text + "\n", to: STDOUT_FILENO) }
        if !written { readerClosed() }
    }

    static func error(_ text: String) {
        lock.withLock { _ in _ = write(text + "\n", to: STDERR_FILENO) }
    }

    /// For commands that may wait a long time between lines (`--follow`, `up --headless`): notices at once that
    /// standard output's reader went away, without waiting for the next line to fail, as `tail -f` does. A pipe
    /// whose reading end is closed reports an error to `poll`; a terminal or a file never does.
    static func watchForClosedReader() {
        let thread = Thread {
            var entry = pollfd(fd: STDOUT_FILENO, events: 0, revents: 0)
            while true {
                let ready = poll(&entry, 1, -1)
                if ready < 0 && errno == EINTR { continue }
                guard ready > 0, entry.revents & Int16(POLLERR | POLLHUP) != 0 else { return }
                break
            }
            readerClosed()
        }
        thread.name = "muster-stdout-watch"
        thread.start()
    }

    /// Standard output's reader went away: once, the replacement handler or the end by `SIGPIPE`.
    private static func readerClosed() {
        let handler: (@Sendable () -> Void)?? = lock.withLock { state in
            guard !state.closed else { return .none }
            state.closed = true
            return .some(state.onBrokenPipe)
        }
        guard case .some(let replacement) = handler else { return }
        if let replacement {
            replacement()
        } else {
            endAsBrokenPipe()
        }
    }

    /// Ends the process as a pipeline expects of a writer whose reader left: killed by `SIGPIPE` (status 141).
    static func endAsBrokenPipe() -> Never {
        signal(SIGPIPE, SIG_DFL)
        raise(SIGPIPE)
        exit(141)
    }

    /// Writes all of `text`; false when the descriptor refuses (the reader is gone, or another error).
    private static func write(_ text: String, to descriptor: Int32) -> Bool {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }
}
