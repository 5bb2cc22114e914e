import Foundation

/// When each held long-poll ends, in order: the broker keeps one timer for the earliest instead of one sleeping
/// task per request (10,000 waiting nodes were 10,000 tasks, each alive for its whole wait even once answered).
///
/// Waits are mostly the same length, so deadlines arrive almost in order and are appended at the end. A long-poll
/// answered early keeps its entry until its deadline, when it is found already gone. `ID` names a long-poll (the
/// broker uses its ``AnswerWake``).
struct LongPollDeadlines<ID> {
    private var entries: [(deadline: ContinuousClock.Instant, key: NodeKey, id: ID)] = []
    /// Entries before this index have expired.
    private var start = 0

    /// Pending deadlines (including those of long-polls answered since).
    var count: Int { entries.count - start }

    /// The earliest deadline.
    var earliest: ContinuousClock.Instant? { start < entries.count ? entries[start].deadline : nil }

    /// Records that the long-poll `id` of `key` ends at `deadline`.
    mutating func add(_ deadline: ContinuousClock.Instant, key: NodeKey, id: ID) {
        var index = entries.count
        while index > start && entries[index - 1].deadline > deadline { index -= 1 }
        entries.insert((deadline, key, id), at: index)
    }

    /// Removes and returns the long-polls whose deadline is at or before `now`.
    mutating func expire(through now: ContinuousClock.Instant) -> [(key: NodeKey, id: ID)] {
        var expired: [(key: NodeKey, id: ID)] = []
        while start < entries.count && entries[start].deadline <= now {
            expired.append((entries[start].key, entries[start].id))
            start += 1
        }
        if start == entries.count {
            entries.removeAll(keepingCapacity: entries.count < 4_096)
            start = 0
        } else if start > 1_024 && start * 2 > entries.count {
            entries.removeFirst(start)
            start = 0
        }
        return expired
    }
}
