import Synchronization

/// What one event reader has read so far, across its reconnections: shared between its channel handler (on an
/// event loop) and the bench.
final class EventTally: Sendable {
    private let events = Atomic<Int>(0)
    private let last = Atomic<Int>(-1)
    private let opened = Atomic<Bool>(false)

    /// Events read in all.
    var count: Int { events.load(ordering: .relaxed) }

    /// The id of the last event read, `nil` before the first: where a new connection resumes.
    var lastID: Int? {
        let value = last.load(ordering: .acquiring)
        return value < 0 ? nil : value
    }

    /// Whether the stream was open (the broker's 200 arrived) at least once.
    var hasOpened: Bool { opened.load(ordering: .acquiring) }

    /// Records `count` more events, the last of them (if any had an id) with id `lastID`.
    func record(_ count: Int, lastID: Int?) {
        if count > 0 { events.add(count, ordering: .relaxed) }
        if let lastID { last.store(lastID, ordering: .releasing) }
    }

    /// Records that the stream is open.
    func markOpened() {
        opened.store(true, ordering: .releasing)
    }
}
