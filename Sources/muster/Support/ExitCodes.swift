import ArgumentParser

/// Exit statuses, after BSD's sysexits where one fits, so that a script can tell what went wrong without
/// reading the message. `muster --help` and the README list them.
enum ExitCodes {
    /// Something did not end well: a node failed or was killed, a context has errors (`up`, `status --check`).
    static let failure = ExitCode(1)
    /// `status --check`: the context is still running.
    static let running = ExitCode(2)
    /// Bad usage: an unknown flag, a malformed value (EX_USAGE; ArgumentParser's own).
    static let usage = ExitCode(64)
    /// A document is invalid, or the broker refused a request's data (EX_DATAERR).
    static let invalidDocument = ExitCode(65)
    /// Something named does not exist: a file, a context, a node, an image folder (EX_NOINPUT).
    static let notFound = ExitCode(66)
    /// The broker cannot be reached or cannot serve, or a broker cannot listen (EX_UNAVAILABLE).
    static let unavailable = ExitCode(69)
    /// A bug: the broker failed, or muster did (EX_SOFTWARE).
    static let internalError = ExitCode(70)
    /// A file or folder could not be written (EX_CANTCREAT).
    static let cannotCreate = ExitCode(73)
    /// Not possible now: the node or context is in a state that does not allow it, or another broker holds the
    /// state folder (EX_TEMPFAIL).
    static let conflict = ExitCode(75)
    /// The broker answered something this muster does not understand (EX_PROTOCOL).
    static let protocolError = ExitCode(76)
    /// The broker refused the token (EX_NOPERM).
    static let refused = ExitCode(77)
    /// A setting is unusable: a malformed broker URL, an unreadable certificate (EX_CONFIG).
    static let configuration = ExitCode(78)
    /// `up --timeout`: the context did not complete in time (as `timeout(1)`).
    static let timedOut = ExitCode(124)
    /// Interrupted by Ctrl-C or SIGTERM.
    static let interrupted = ExitCode(130)

    /// The table `--help` and the README show.
    static let summary = """
        Exit status: 0 success; 1 a node failed or was killed (up, status --check); 2 still running \
        (status --check); 64 bad usage; 65 invalid document or request; 66 not found (file, context, node, \
        image folder); 69 broker unreachable or cannot listen; 70 internal error; 73 cannot write a file; \
        75 not possible in the current state, or the state folder is in use; 76 unexpected answer from the \
        broker; 77 token refused; 78 unusable setting (URL, certificate); 124 up --timeout passed; 130 \
        interrupted; 141 output closed (| head).
        """
}
