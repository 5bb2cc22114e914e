import ArgumentParser

/// Event stream readers that read every event while the load runs, as many consoles would, each on a connection
/// of its own (``EventReader``).
struct EventReaders: Sendable {
    let readers: [EventReader]
    let tasks: [Task<Void, Never>]

    /// Starts `count` readers; returns once every stream is open.
    static func start(_ count: Int, broker: BrokerProcess) async throws -> EventReaders {
        guard count > 0 else { return EventReaders(readers: [], tasks: []) }
        let endpoint = try LoadEndpoint(url: broker.url)
        let readers = (0..<count).map { _ in EventReader(endpoint: endpoint, token: broker.token) }
        let group = EventReaders(readers: readers, tasks: readers.map { reader in Task { await reader.run() } })
        // The broker's 200 says a stream is open, before any event: wait until every reader has had it.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        var opened = 0
        while true {
            opened = readers.count(where: { $0.tally.hasOpened })
            guard opened < count && clock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard opened == count else {
            _ = await group.stop()
            throw ValidationError("only \(opened) of \(count) event readers could open a stream")
        }
        return group
    }

    /// Stops the readers; returns how many events they read in all.
    func stop() async -> Int {
        for reader in readers { reader.stop() }
        for task in tasks { await task.value }
        return readers.reduce(0) { $0 + $1.tally.count }
    }
}
