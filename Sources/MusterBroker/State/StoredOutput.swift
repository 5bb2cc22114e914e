import MusterCore

/// What the store holds of one node's output (its current generation): lines `first..<next`, `bytes` of text.
struct StoredOutput: Sendable, Hashable {
    /// The index of the oldest line kept (a marker line once older ones were dropped).
    var first = 0
    /// The index the next line gets.
    var next = 0
    /// Bytes of text kept.
    var bytes = 0
    /// How many lines were dropped by the quota (every index before `first`, and the one the marker replaced).
    var dropped = 0

    /// Lines kept.
    var count: Int { next - first }
}

extension StoredOutput {
    /// What a store's count says of a node's output.
    init(_ count: OutputCount) {
        let first = count.first ?? 0
        self.init(first: first, next: count.count, bytes: count.bytes ?? 0, dropped: first > 0 ? first + 1 : 0)
    }

    /// The store's count of this output.
    func count(context: ContextID, node: String, generation: Int) -> OutputCount {
        OutputCount(context: context, node: node, generation: generation, count: next, first: first, bytes: bytes)
    }
}

/// How to bring a node's output back under its quota: the lines before `marker.index` go, and the marker takes
/// the place of the line at its index.
struct OutputTrimPlan: Sendable {
    /// The line saying how many lines were dropped.
    var marker: OutputLine
    /// The node's output after the trim.
    var after: StoredOutput

    /// Bytes set aside for the marker line while choosing what to drop (it is about 130 bytes).
    static let markerAllowance = 256
}
