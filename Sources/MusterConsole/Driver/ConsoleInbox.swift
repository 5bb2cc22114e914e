import Synchronization

/// What other threads post to the console loop.
public enum ConsoleMessage: Sendable, Hashable {
    /// News from the data feed.
    case update(ConsoleUpdate)
    /// An input from outside the terminal (an action's result).
    case input(ConsoleInput)
    /// Stop the console (a signal, the feed's owner).
    case stop
}

/// The thread-safe queue between async tasks (network, actions, signals) and the console loop's thread.
/// Posting never blocks; it wakes the loop, which drains everything posted in one go.
public final class ConsoleInbox: Sendable {
    private let messages = Mutex<[ConsoleMessage]>([])
    /// The pipe the loop waits on.
    public let wakeUp = WakeUpPipe()

    /// Creates an empty inbox.
    public init() {}

    /// Posts a message and wakes the loop.
    public func post(_ message: ConsoleMessage) {
        messages.withLock { $0.append(message) }
        wakeUp.signal()
    }

    /// Takes every message posted so far, oldest first.
    public func drain() -> [ConsoleMessage] {
        messages.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
    }
}
