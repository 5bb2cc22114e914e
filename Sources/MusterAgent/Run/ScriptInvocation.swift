import Foundation
import MusterCore

/// One script to run and how: its file, arguments, working folder, environment and time limit.
public struct ScriptInvocation: Sendable, Hashable {
    /// The script file.
    public var script: URL
    /// Its arguments.
    public var arguments: [String]
    /// The folder it runs in.
    public var workingDirectory: URL
    /// Changes to the agent's own environment: a value sets the variable, `nil` removes it.
    public var environment: [String: String?]
    /// How long the script may run before its whole process group is ended.
    public var timeout: Duration

    /// Creates an invocation.
    public init(script: URL, arguments: [String] = [], workingDirectory: URL, environment: [String: String?] = [:], timeout: Duration) {
        self.script = script
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.timeout = timeout
    }
}

/// One line a script printed, or a line the runner adds about it (``MusterCore/OutputStream/agent``).
public struct ScriptOutputLine: Sendable, Hashable {
    /// Where the line came from.
    public var stream: MusterCore.OutputStream
    /// The text, without its line ending.
    public var text: String

    /// Creates a line.
    public init(stream: MusterCore.OutputStream, text: String) {
        self.stream = stream
        self.text = text
    }
}

/// How a script run ended.
public enum ScriptOutcome: Sendable, Hashable {
    /// The script exited with this status (0 is success).
    case exited(Int32)
    /// The script was ended by this signal (not by the runner's timeout).
    case signaled(Int32)
    /// The script ran past its timeout; its process group was ended.
    case timedOut(after: Duration)
    /// The script could not be started; the message says why.
    case failedToStart(String)
    /// The calling task was cancelled (the agent is stopping); the process group was ended.
    case cancelled

    /// Whether the script succeeded.
    public var isSuccess: Bool { self == .exited(0) }

    /// The exit code reported for the script: its own, 128 + the signal (as shells do), 124 for a timeout (as
    /// `timeout(1)` does), 127 when it could not start, 130 when cancelled.
    public var exitCode: Int {
        switch self {
        case .exited(let code): Int(code)
        case .signaled(let signal): 128 + Int(signal)
        case .timedOut: 124
        case .failedToStart: 127
        case .cancelled: 130
        }
    }

    /// What happened, as a phrase after the script's name ("exited with code 3", "timed out after 30 s").
    public var summary: String {
        switch self {
        case .exited(let code): "exited with code \(code)"
        case .signaled(let signal): "was killed by signal \(signal)"
        case .timedOut(let limit): "timed out after \(limit.wholeSecondsDescription) s"
        case .failedToStart(let reason): "could not be started: \(reason)"
        case .cancelled: "was stopped because the agent is stopping"
        }
    }
}

extension Duration {
    /// The duration in seconds, without a fraction when it is whole ("30", "0.5").
    var wholeSecondsDescription: String {
        let (seconds, attoseconds) = components
        if attoseconds == 0 { return String(seconds) }
        return String(Double(seconds) + Double(attoseconds) / 1e18)
    }
}
