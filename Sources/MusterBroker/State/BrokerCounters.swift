/// What the broker's caps and quotas dropped or refused since it started, served on `/metrics` as counters.
struct BrokerCounters: Sendable, Hashable {
    /// Output lines dropped by the per-node output quota (oldest first).
    var outputLinesDropped = 0
    /// Script runs not recorded because a node's timeline was full.
    var timelineEntriesDropped = 0
    /// Streams closed because their reader fell more than the stream buffer behind.
    var streamsDropped = 0
    /// Streams refused because their token had the most open.
    var streamsRefused = 0
    /// Changes committed by other brokers sharing the store, applied here.
    var changesFollowed = 0
}
