import Foundation
import MusterCore
import Testing

@testable import MusterBroker

/// The long-poll deadlines behind the broker's one long-poll timer.
@Suite("Long-poll deadlines")
struct LongPollDeadlinesTests {
    static let key = NodeKey(context: "c", node: "n-0")

    @Test func `deadlines expire in order, whatever order they were added in, each once`() {
        var deadlines = LongPollDeadlines<UUID>()
        let base = ContinuousClock.now
        var random = SystemRandomNumberGenerator()
        var added: [(offset: Int, id: UUID)] = []
        for _ in 0..<3_000 {
            // Mostly increasing, as equal waits give, with some out of order.
            let offset = added.count * 2 + (Int.random(in: 0..<10, using: &random) == 0 ? -Int.random(in: 0...500, using: &random) : 0)
            let id = UUID()
            added.append((offset, id))
            deadlines.add(base + .milliseconds(offset), key: Self.key, id: id)
        }
        #expect(deadlines.count == 3_000)
        #expect(deadlines.earliest == base + .milliseconds(added.map(\.offset).min()!))
        var expired: [UUID] = []
        for through in stride(from: -600, through: 6_200, by: 100) {
            let now = base + .milliseconds(through)
            let batch = deadlines.expire(through: now)
            expired += batch.map(\.id)
            if let earliest = deadlines.earliest { #expect(earliest > now, "nothing due is left behind") }
        }
        #expect(deadlines.count == 0 && deadlines.earliest == nil)
        #expect(expired.count == 3_000 && Set(expired) == Set(added.map(\.id)), "each expired exactly once")
        let order = Dictionary(uniqueKeysWithValues: added.map { ($0.id, $0.offset) })
        #expect(expired.map { order[$0]! } == expired.map { order[$0]! }.sorted(), "in deadline order")
    }

    @Test func `a deadline added after others expired is kept, and nothing is due early`() {
        var deadlines = LongPollDeadlines<UUID>()
        let base = ContinuousClock.now
        deadlines.add(base + .seconds(1), key: Self.key, id: UUID())
        #expect(deadlines.expire(through: base).isEmpty)
        #expect(deadlines.expire(through: base + .seconds(1)).count == 1)
        let later = UUID()
        deadlines.add(base + .seconds(3), key: Self.key, id: later)
        deadlines.add(base + .seconds(2), key: Self.key, id: UUID())
        #expect(deadlines.earliest == base + .seconds(2))
        #expect(deadlines.expire(through: base + .milliseconds(2_500)).count == 1)
        #expect(deadlines.expire(through: base + .seconds(3)).map(\.id) == [later])
    }
}
