import MusterClient
import MusterCore

extension OperatorClient {
    /// Every stored event of `context` up to `sequence` (a snapshot's), for commands that read a context's
    /// history once (`analyze`, `console --snapshot`).
    ///
    /// A snapshot's sequence is the broker's latest across every context, so the context's own events may end
    /// before it: a stream of that context alone would then wait forever for an event that never comes. The
    /// broker's whole stream surely reaches `sequence`; the context's events are kept from it.
    func storedEvents(of context: ContextID, through sequence: UInt64) async throws -> [ContextEvent] {
        guard sequence > 0 else { return [] }
        var found: [ContextEvent] = []
        for try await element in events(after: 0) {
            guard case .event(let event) = element else { continue }
            if event.context == context { found.append(event) }
            if event.sequence >= sequence { break }
        }
        return found
    }
}
