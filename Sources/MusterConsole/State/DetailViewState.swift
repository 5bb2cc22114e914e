import Foundation

/// Where the detail view of one node is: which node and how its output pane is scrolled.
public struct DetailViewState: Sendable, Hashable {
    /// The node (index into ``ConsoleModel/nodes``).
    public var node: Int
    /// Whether the pane shows the newest lines as they arrive.
    public var follow = true
    /// Whether long lines wrap.
    public var wrap = false
    /// The absolute line shown first when not following.
    public var top = 0
    /// The search text, once one was entered.
    public var search: String?
    /// The absolute line of the current match.
    public var match: Int?
    /// The attempt shown (slot generation, from 0); nil for the latest, which follows retries.
    public var attempt: Int?
    /// The first line of the information block shown (it scrolls when it does not fit).
    public var infoTop = 0

    /// Creates the state for a node, following its output.
    public init(node: Int) {
        self.node = node
    }

    /// The attempt shown of a node whose latest attempt is `generation`.
    public func shownAttempt(latest generation: Int) -> Int { min(attempt ?? generation, generation) }
}

/// Where the events view is: its filter, and what is selected.
public struct EventsViewState: Sendable, Hashable {
    /// The filter (case-insensitive substring of the entry's text); empty for none.
    public private(set) var filter = ""
    /// Whether the selection stays on the newest entry.
    public var follow = true
    /// The selection and scroll position, in rows of the filtered list.
    public var cursor = ListCursor()
    /// Absolute log positions of matching entries (only while filtering), kept incrementally.
    private var matches: [Int] = []
    /// Entries up to this absolute position were checked against the filter.
    private var checked = 0

    /// Creates an unfiltered, following state.
    public init() {}

    /// The number of rows.
    public func count(_ log: RingBuffer<EventLogEntry>) -> Int {
        filter.isEmpty ? log.count : matches.count - firstLiveMatch(log)
    }

    /// The entry at a row.
    public func entry(at row: Int, _ log: RingBuffer<EventLogEntry>) -> EventLogEntry? {
        if filter.isEmpty { return row >= 0 && row < log.count ? log[row] : nil }
        let index = firstLiveMatch(log) + row
        return row >= 0 && index < matches.count ? log.element(atAbsolute: matches[index]) : nil
    }

    /// Sets the filter, checking every entry held once (O(log size), bounded by ``ConsoleModel/eventLogLimit``).
    mutating func setFilter(_ text: String, _ log: RingBuffer<EventLogEntry>) {
        filter = text
        matches = []
        checked = log.droppedCount
        catchUp(log)
    }

    /// Checks entries appended since the last call against the filter.
    mutating func catchUp(_ log: RingBuffer<EventLogEntry>) {
        guard !filter.isEmpty else {
            checked = log.appendedCount
            return
        }
        var position = max(checked, log.droppedCount)
        while position < log.appendedCount {
            if let entry = log.element(atAbsolute: position), Self.matches(entry, filter) { matches.append(position) }
            position += 1
        }
        checked = position
        let stale = firstLiveMatch(log)
        if stale > 1_024 { matches.removeFirst(stale) }
    }

    private func firstLiveMatch(_ log: RingBuffer<EventLogEntry>) -> Int {
        var low = 0
        var high = matches.count
        while low < high {
            let middle = (low + high) / 2
            if matches[middle] < log.droppedCount { low = middle + 1 } else { high = middle }
        }
        return low
    }

    static func matches(_ entry: EventLogEntry, _ filter: String) -> Bool {
        entry.text.range(of: filter, options: .caseInsensitive) != nil || entry.kind.contains(filter.lowercased())
    }
}
