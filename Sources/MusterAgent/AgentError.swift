import MusterCore

/// Why the agent cannot go on: a Nimbus exit code (``NodeExitCode``) and a message for the operator.
///
/// The code is what the node reports (`report` with ``NodeResult/error(code:message:)``) and what
/// `muster-agent` exits with, so the cases are grouped by code rather than by cause; new causes only need a
/// new message.
public struct AgentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The exit code (see ``NodeExitCode``).
    public let code: Int
    /// What went wrong, for a person; never holds a data value.
    public let message: String

    private init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    /// Bad input to the agent: missing or malformed userdata or flags (code 1).
    public static func input(_ message: String) -> AgentError { AgentError(code: NodeExitCode.input, message: message) }

    /// The node's configuration cannot be applied, for example a data value with no `3-data` folder (code 2).
    public static func configuration(_ message: String) -> AgentError {
        AgentError(code: NodeExitCode.configuration, message: message)
    }

    /// The node's environment is not usable, for example its root folder cannot be written (code 3).
    public static func environment(_ message: String) -> AgentError {
        AgentError(code: NodeExitCode.environment, message: message)
    }

    /// A ctx-script failed or timed out (code 4).
    public static func execution(_ message: String) -> AgentError { AgentError(code: NodeExitCode.execution, message: message) }

    /// The node result that reports this error.
    public var result: NodeResult { .error(code: code, message: message) }

    public var description: String { "error \(code): \(message)" }
}
