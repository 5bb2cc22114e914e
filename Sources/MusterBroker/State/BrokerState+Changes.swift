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
