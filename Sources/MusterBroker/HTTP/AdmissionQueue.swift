/// Who may go on, as a value: at most ``limit`` at once, the rest waiting in the order they came.
///
/// ``RoutingGate`` keeps one behind a lock and resumes the waiters it returns; this type decides, and does
/// nothing else, so its rules are tested without tasks.
struct AdmissionQueue<Waiter> {
    /// The most admitted at once.
    let limit: Int
    /// How many are admitted now.
    private(set) var admitted = 0
    private var waiting: [Waiter?] = []
    private var head = 0

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// How many wait.
    var waitingCount: Int { waiting.count - head }

    /// One arrives and goes on at once if there is room and no one waits: `true` if it was admitted.
    mutating func admitIfFree() -> Bool {
        guard admitted < limit, waitingCount == 0 else { return false }
        admitted += 1
        return true
    }

    /// One arrives: `true` if it may go on now, else it waits (as `waiter`) until a ``depart()`` hands it on.
    mutating func arrive(_ waiter: Waiter) -> Bool {
        if admitIfFree() { return true }
        waiting.append(waiter)
        return false
    }

    /// One admitted leaves: the waiter that takes its place (to be resumed), if any.
    mutating func depart() -> Waiter? {
        precondition(admitted > 0, "a departure without an admission")
        guard head < waiting.count else {
            admitted -= 1
            return nil
        }
        let next = waiting[head].take()
        head += 1
        if head == waiting.count {
            waiting.removeAll(keepingCapacity: waiting.count <= 1_024)
            head = 0
        } else if head >= 1_024, head * 2 >= waiting.count {
            waiting.removeFirst(head)
            head = 0
        }
        return next
    }
}
