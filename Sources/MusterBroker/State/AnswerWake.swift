import MusterCore
import Synchronization

/// What a long-poll's first look found: the answer to send now, or a wake-up to wait for.
enum AnswerPoll: Sendable {
    /// Send this now.
    case now(AnswerResponse)
    /// Wait for this, then read the node's answer.
    case held(AnswerWake)
}

/// One held long-poll's wake-up: fired by the state (the node has news, the wait passed, its context ended, the
/// broker stops), awaited by the request outside the state actor. Firing before the wait begins is not lost,
/// and firing twice is harmless.
final class AnswerWake: Sendable {
    private enum Phase {
        case idle
        case waiting(CheckedContinuation<Void, Never>)
        case fired
    }

    private let phase = Mutex(Phase.idle)

    /// Ends the wait (now, or as soon as it begins).
    func fire() {
        let waiting = phase.withLock { phase -> CheckedContinuation<Void, Never>? in
            defer { phase = .fired }
            if case .waiting(let continuation) = phase { return continuation }
            return nil
        }
        waiting?.resume()
    }

    /// Whether it was fired.
    var isFired: Bool { phase.withLock { if case .fired = $0 { true } else { false } } }

    /// Waits until it is fired, or the task is cancelled (a broker shutting down).
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let fired = phase.withLock { phase -> Bool in
                    if case .fired = phase { return true }
                    phase = .waiting(continuation)
                    return false
                }
                if fired { continuation.resume() }
            }
        } onCancel: {
            fire()
        }
    }
}
