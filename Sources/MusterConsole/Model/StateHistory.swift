import Foundation
import MusterCore

/// Nodes by state over the last minutes, for the header's sparkline: the counts at the end of each fixed time
/// bucket, kept as events arrive. O(1) per event (amortized over the buckets an event skips), bounded memory.
public struct StateHistory: Sendable, Hashable {
    /// The width of one bucket.
    public static let bucketSeconds: TimeInterval = 10
    /// How many buckets are kept (six minutes).
    public static let capacity = 36

    /// The counts at the end of each bucket, oldest first; the last one is the current bucket.
    public private(set) var buckets: [StateCounts] = []
    /// The number of the last bucket (seconds since 1970 / ``bucketSeconds``).
    public private(set) var lastBucket: Int?

    /// Creates an empty history.
    public init() {}

    /// Records the counts as they are at `time` (after an event).
    mutating func record(_ counts: StateCounts, at time: Date) {
        let bucket = Int((time.timeIntervalSince1970 / Self.bucketSeconds).rounded(.down))
        guard let last = lastBucket else {
            buckets = [counts]
            lastBucket = bucket
            return
        }
        if bucket <= last {
            buckets[buckets.count - 1] = counts
            return
        }
        let carried = buckets[buckets.count - 1]
        for _ in 0..<min(bucket - last - 1, Self.capacity) { buckets.append(carried) }
        buckets.append(counts)
        if buckets.count > Self.capacity { buckets.removeFirst(buckets.count - Self.capacity) }
        lastBucket = bucket
    }

    /// Forgets everything (a new context).
    mutating func reset() {
        buckets = []
        lastBucket = nil
    }

    /// The counts per bucket up to `now` (buckets after the last event carry its counts), at most `count` of them.
    public func series(upTo now: Date, count: Int) -> [StateCounts] {
        guard let last = lastBucket, let latest = buckets.last, count > 0 else { return [] }
        let current = Int((now.timeIntervalSince1970 / Self.bucketSeconds).rounded(.down))
        var series = buckets
        if current > last { series += Array(repeating: latest, count: min(current - last, Self.capacity)) }
        return Array(series.suffix(count))
    }
}

/// Draws a series of values as a one-row sparkline of block characters.
public enum Sparkline {
    /// Eight heights, lowest first.
    public static let unicodeBlocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    /// ASCII stand-ins.
    public static let asciiBlocks: [Character] = ["_", "_", ".", ".", "-", "-", "=", "#"]

    /// One character per value, scaled to `maximum` (values ≤ 0 draw the lowest block).
    public static func text(_ values: [Double], maximum: Double, ascii: Bool = false) -> String {
        let blocks = ascii ? asciiBlocks : unicodeBlocks
        guard maximum > 0 else { return String(repeating: blocks[0], count: values.count) }
        return String(
            values.map { value in
                let level = Int((max(0, min(1, value / maximum)) * Double(blocks.count - 1)).rounded())
                return blocks[level]
            }
        )
    }
}
