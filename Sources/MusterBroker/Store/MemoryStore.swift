import Foundation
import MusterCore
import Synchronization

/// A ``BrokerStore`` that keeps everything in memory, for tests and throwaway brokers.
///
/// It behaves like the SQLite store (same ordering, same paging), so a broker test can run on either.
public final class MemoryStore: BrokerStore {
    private struct Contents {
        var state = StoredState()
        var events: [ContextEvent] = []
        var output: [String: [OutputLine]] = [:]
    }

    private let contents = Mutex(Contents())

    /// Creates an empty store.
    public init() {}

    public var kind: String { "memory" }

    private static func key(_ context: ContextID, _ node: String, _ generation: Int) -> String {
        "\(context.rawValue)\u{0}\(node)\u{0}\(generation)"
    }

    public nonisolated(nonsending) func load() async throws(StoreError) -> StoredState {
        contents.withLock { contents in
            var state = contents.state
            state.lastSequence = contents.events.last?.sequence ?? 0
            return state
        }
    }

    public nonisolated(nonsending) func commit(_ batch: StoreBatch) async throws(StoreError) {
        contents.withLock { contents in
            for context in batch.deletedContexts {
                contents.events.removeAll { $0.context == context }
                contents.state.nodeTokens.removeAll { $0.context == context }
                contents.state.outputCounts.removeAll { $0.context == context }
                let prefix = context.rawValue + "\u{0}"
                for key in contents.output.keys where key.hasPrefix(prefix) { contents.output[key] = nil }
            }
            contents.state.commands += batch.commands
            contents.events += batch.events
            for token in batch.nodeTokens {
                contents.state.nodeTokens.removeAll { $0.context == token.context && $0.node == token.node }
                contents.state.nodeTokens.append(token)
            }
            for trim in batch.outputTrims {
                contents.output[Self.key(trim.context, trim.node, trim.generation)]?.removeAll { $0.index < trim.before }
            }
            for group in batch.output {
                let key = Self.key(group.context, group.node, group.generation)
                var lines = contents.output[key] ?? []
                for line in group.lines {
                    // Lines are kept in index order; a line with a stored index replaces it.
                    if let first = lines.first, line.index >= first.index, line.index - first.index < lines.count {
                        lines[line.index - first.index] = line
                    } else {
                        lines.append(line)
                    }
                }
                contents.output[key] = lines
                contents.state.outputCounts.removeAll { $0.context == group.context && $0.node == group.node && $0.generation == group.generation }
                contents.state.outputCounts.append(
                    OutputCount(
                        context: group.context,
                        node: group.node,
                        generation: group.generation,
                        count: (lines.last?.index ?? -1) + 1,
                        first: lines.first?.index ?? 0,
                        bytes: lines.reduce(0) { $0 + $1.text.utf8.count }
                    )
                )
            }
            if let hash = batch.operatorTokenHash { contents.state.operatorTokenHash = hash }
            if let key = batch.digestKey { contents.state.digestKey = key }
            if let snapshot = batch.snapshot {
                contents.state.snapshot = snapshot
                contents.state.commands = []
            }
        }
    }

    public nonisolated(nonsending) func events(after: UInt64, context: ContextID?, limit: Int) async throws(StoreError) -> [ContextEvent] {
        contents.withLock { contents in
            let start = contents.events.partitionPoint { $0.sequence <= after }
            var result: [ContextEvent] = []
            for event in contents.events[start...] where context == nil || event.context == context {
                result.append(event)
                if result.count == limit { break }
            }
            return result
        }
    }

    public nonisolated(nonsending) func output(
        context: ContextID,
        node: String,
        generation: Int,
        from: Int,
        limit: Int,
        maxBytes: Int
    ) async throws(StoreError) -> [OutputLine] {
        contents.withLock { contents in
            let lines = contents.output[Self.key(context, node, generation)] ?? []
            var result: [OutputLine] = []
            var bytes = 0
            for line in lines[lines.partitionPoint { $0.index < from }...] {
                if result.count == limit || (!result.isEmpty && bytes + line.text.utf8.count > maxBytes) { break }
                bytes += line.text.utf8.count
                result.append(line)
            }
            return result
        }
    }
}

extension MemoryStore {
    public nonisolated(nonsending) func outputLineSizes(
        context: ContextID,
        node: String,
        generation: Int,
        from: Int,
        limit: Int
    ) async throws(StoreError) -> [(index: Int, bytes: Int)] {
        contents.withLock { contents in
            let lines = contents.output[Self.key(context, node, generation)] ?? []
            let start = lines.partitionPoint { $0.index < from }
            return lines[start...].prefix(limit).map { ($0.index, $0.text.utf8.count) }
        }
    }
}

extension Array {
    /// The index of the first element for which `belongsToFirstPart` is false, in a partitioned array.
    fileprivate func partitionPoint(_ belongsToFirstPart: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if belongsToFirstPart(self[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
