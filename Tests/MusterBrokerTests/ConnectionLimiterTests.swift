import NIOCore
import NIOEmbedded
import Testing

@testable import MusterBroker

/// The connection limiter's bookkeeping: the cap, shedding the longest idle, and handing memory back after a burst.
@Suite("Connection limiter")
struct ConnectionLimiterTests {
    /// Opens `count` connections (embedded channels) and returns their ids.
    private func open(_ count: Int, on limiter: ConnectionLimiter) -> [UInt64] {
        (0..<count).compactMap { _ in
            if case .admitted(let id, _) = limiter.open(EmbeddedChannel()) { id } else { nil }
        }
    }

    @Test func `memory is handed back once a burst of connections is down to a quarter, and once only`() {
        let limiter = ConnectionLimiter(maxConnections: 16_384)
        let ids = open(2_000, on: limiter)
        #expect(ids.count == 2_000)
        for id in ids.prefix(1_499) { limiter.close(id) }
        #expect(limiter.counts.memoryReturns == 0, "501 of a peak of 2,000 are still open")
        limiter.close(ids[1_499])
        #expect(limiter.counts.memoryReturns == 1, "a quarter of the peak")
        for id in ids.suffix(500) { limiter.close(id) }
        #expect(limiter.counts.memoryReturns == 1, "the peak starts over from what was left: 500 is no burst")
        #expect(limiter.counts.open == 0)
        let again = open(ConnectionLimiter.burstToReturn, on: limiter)
        for id in again { limiter.close(id) }
        #expect(limiter.counts.memoryReturns == 2, "a new burst of the threshold hands memory back again")
    }

    @Test func `fewer connections than a burst never trigger it`() {
        let limiter = ConnectionLimiter(maxConnections: 16_384)
        let ids = open(ConnectionLimiter.burstToReturn - 1, on: limiter)
        for id in ids { limiter.close(id) }
        #expect(limiter.counts.memoryReturns == 0)
    }

    @Test func `at the cap the longest idle connection is shed, and a new one is refused when all are busy`() {
        let limiter = ConnectionLimiter(maxConnections: 2)
        let ids = open(2, on: limiter)
        limiter.setBusy(ids[1], true)
        guard case .admitted(let third, let evicted) = limiter.open(EmbeddedChannel()) else {
            Issue.record("the third connection should be admitted in place of the idle one")
            return
        }
        #expect(evicted != nil && limiter.counts.shed == 1 && limiter.counts.open == 2)
        limiter.setBusy(third, true)
        guard case .refused = limiter.open(EmbeddedChannel()) else {
            Issue.record("with every connection busy, a new one should be refused")
            return
        }
        #expect(limiter.counts.refused == 1 && limiter.counts.open == 2)
    }
}
