import MusterAgent
import MusterCore
import Synchronization

/// Keeps every report, in the order it arrived.
final class RecordingReporter: AgentReporting {
    enum Event: Hashable, CustomStringConvertible {
        case started(ScriptRef)
        case finished(ScriptRef, Int)
        case output(OutputLine)

        var description: String {
            switch self {
            case .started(let script): "started \(script.script) \(script.arguments)"
            case .finished(let script, let code): "finished \(script.script) \(code)"
            case .output(let line): "\(line.index) \(line.stream.rawValue) \(line.script): \(line.text)"
            }
        }
    }

    private let recorded = Mutex<[Event]>([])

    var events: [Event] { recorded.withLock { $0 } }

    var lines: [OutputLine] {
        events.compactMap { event in
            if case .output(let line) = event { line } else { nil }
        }
    }

    /// The script's stdout and stderr lines as "stream: text".
    func scriptLines(_ script: String) -> [String] {
        lines.filter { $0.script == script && $0.stream != .agent }.map { "\($0.stream.rawValue): \($0.text)" }
    }

    var started: [ScriptRef] {
        events.compactMap { event in
            if case .started(let script) = event { script } else { nil }
        }
    }

    func scriptStarted(_ script: ScriptRef) async { recorded.withLock { $0.append(.started(script)) } }

    func scriptFinished(_ script: ScriptRef, exitCode: Int) async { recorded.withLock { $0.append(.finished(script, exitCode)) } }

    func output(_ line: OutputLine) async { recorded.withLock { $0.append(.output(line)) } }
}
