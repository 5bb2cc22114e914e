import ArgumentParser

/// Exit codes, after BSD's sysexits so that scripts can tell a bad document from a missing one.
enum ExitCodes {
    /// A document is invalid (EX_DATAERR).
    static let invalidDocument = ExitCode(65)
    /// A file could not be read (EX_NOINPUT).
    static let unreadableInput = ExitCode(66)
}
