/// A background job that runs one at a time, requests made while it runs folded into one more run when it ends
/// (a checkpoint, a trim): the value state machine; the owner keeps it in a `Mutex` and starts the run it asks for.
struct CoalescedRuns: Sendable {
    private var running = false
    private var again = false

    /// A request: true when the caller is to start a run now (none was running).
    mutating func requested() -> Bool {
        if running {
            again = true
            return false
        }
        running = true
        return true
    }

    /// A run ended: true when the caller is to run once more (requested meanwhile).
    mutating func ended() -> Bool {
        if again {
            again = false
            return true
        }
        running = false
        return false
    }
}
