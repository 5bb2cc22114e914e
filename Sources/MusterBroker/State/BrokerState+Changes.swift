extension BrokerState {
    /// Waits until no other change is in flight, then marks this one as in flight.
    ///
    /// A change applies commands to the engine, commits them and publishes them. A store that suspends while it
    /// commits (PostgreSQL) lets the actor take other calls meanwhile; this lock keeps a second change from
    /// building on one that is not durable yet, so changes reach the store, the followers and the answers in
    /// the order they were applied. Reads are not held up. Waiting changes go in arrival order.
    func beginChange() async {
        guard changeInFlight else {
            changeInFlight = true
            return
        }
        await withCheckedContinuation { changesWaiting.append($0) }
    }

    /// Ends the change in flight and hands the lock to the next waiting change, if any.
    func endChange() {
        if changesWaiting.isEmpty {
            changeInFlight = false
        } else {
            changesWaiting.removeFirst().resume()
        }
    }
}

extension BrokerState {
    /// Runs `body` as one change: in order with every other change of this broker, under the store's write lock,
    /// on a state that has applied what other brokers sharing the store committed first (see
    /// ``BrokerStore/beginWrite()``). `body` commits its batch, or the write ends without one.
    func changing<T>(_ body: () async throws(BrokerError) -> T) async throws(BrokerError) -> T {
        await beginChange()
        defer { endChange() }
        guard !isShuttingDown else { throw BrokerError.unavailable("the broker is shutting down") }
        do {
            await apply(try await store.beginWrite())
        } catch {
            throw BrokerError(error)
        }
        do {
            let value = try await body()
            await store.endWrite()
            return value
        } catch {
            await store.endWrite()
            throw error
        }
    }
}
