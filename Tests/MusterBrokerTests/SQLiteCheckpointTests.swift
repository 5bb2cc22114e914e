import Foundation
import MusterBroker
import MusterCore
import Testing

/// The SQLite store's write-ahead log is copied back into the database file by a checkpoint of its own, not by
/// the commit that happens to take it past 1,000 pages.
@Suite("SQLite checkpoints")
struct SQLiteCheckpointTests {
    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    @Test func `a log past its threshold is copied into the database file, and the commits go on`() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-checkpoint-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("state.sqlite")
        let store = try SQLiteStore(path: path)
        let emptySize = Self.size(path)
        // 64 commits of 16 lines of 4 KB: some 4 MB, a thousand pages and more.
        let text = String(repeating: "x", count: 4_096)
        for commit in 0..<64 {
            var batch = StoreBatch()
            let lines = (0..<16).map { offset in
                let index = commit * 16 + offset
                return OutputLine(index: index, time: Date(), phase: 1, script: "1-ipandhost/head", stream: .stdout, text: text)
            }
            batch.output = [OutputBatch(context: "c1", node: "head-0", generation: 0, lines: lines)]
            try await store.commit(batch)
        }
        // The checkpoint runs on its own connection; wait (bounded) for the file to hold what the log had.
        let deadline = ContinuousClock.now + .seconds(60)
        while Self.size(path) < emptySize + 2_000_000, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(Self.size(path) >= emptySize + 2_000_000, "the database file holds the checkpointed pages")
        let stored = try await store.output(context: "c1", node: "head-0", generation: 0, from: 0, limit: 2_000, maxBytes: 8_000_000)
        #expect(stored.count == 1_024)
        #expect(stored.last?.index == 1_023)
        await store.close()
    }
}
