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
/// and only the first firing counts.
///
/// The state fires it with the node's answer as of that moment (read on the actor, after the change that fired it
/// is committed), so the request does not go back to the actor to read it: at a mass release, 10,000 trips
/// through the actor fewer. The answer is handed over once and not kept: the wake itself stays in the state's
/// deadlines until its wait would have ended.
final class AnswerWake: Sendable {
    /// What the state answers when it fires: the node's answer, or why there is none (its node or context is gone).
    typealias Answer = Result<AnswerResponse, BrokerError>

    private enum Phase {
        case idle
        case waiting(CheckedContinuation<Answer?, Never>)
        case fired(Answer?)
    }

    /// The answer version the node already has.
    let after: Int
    private let phase = Mutex(Phase.idle)

    /// A wake-up for a long-poll that has version `after` of its node's answer.
    init(after: Int) {
        self.after = after
    }

    /// Ends the wait (now, or as soon as it begins) with `answer`; `nil` when the waiter is to read the answer
    /// itself (its task was cancelled). Only the first firing counts.
    func fire(with answer: Answer?) {
        let waiting = phase.withLock { phase -> CheckedContinuation<Answer?, Never>? in
            switch phase {
            case .idle:
                phase = .fired(answer)
                return nil
            case .waiting(let continuation):
                phase = .fired(nil)
                return continuation
            case .fired:
                return nil
            }
        }
        waiting?.resume(returning: answer)
    }

    /// Whether it was fired.
    var isFired: Bool { phase.withLock { if case .fired = $0 { true } else { false } } }

    /// Waits until it is fired, or the task is cancelled (a broker shutting down); returns the answer it was fired
    /// with, `nil` if none or if an earlier wait took it.
    func wait() async -> Answer? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Answer?, Never>) in
                let fired = phase.withLock { phase -> Answer?? in
                    if case .fired(let answer) = phase {
                        phase = .fired(nil)
                        return .some(answer)
                    }
                    phase = .waiting(continuation)
                    return .none
                }
                if let fired { continuation.resume(returning: fired) }
            }
        } onCancel: {
            fire(with: nil)
        }
    }
}
