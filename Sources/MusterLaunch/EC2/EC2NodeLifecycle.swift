/// One node slot's instance on EC2, from `run-instances` to `running` (or its end), as a value state machine:
/// each event returns what the launcher must do, so that stops and retries that arrive while a call is in
/// flight are never lost, and the rules are tested without AWS.
struct EC2NodeLifecycle: Sendable, Hashable {
    enum Phase: Sendable, Hashable {
        /// `run-instances` is in flight.
        case creating
        /// The instance exists and is not `running` yet.
        case booting(instanceID: String, since: ContinuousClock.Instant)
        /// The instance reached `running` (booted was reported).
        case running(instanceID: String)
        /// The instance is gone or being terminated; nothing more is reported.
        case ended
    }

    /// The slot generation this lifecycle is for.
    let generation: Int
    private(set) var phase: Phase = .creating
    /// A stop arrived while `run-instances` was in flight.
    private(set) var stopRequested = false

    init(generation: Int) {
        self.generation = generation
    }

    var instanceID: String? {
        switch phase {
        case .booting(let id, _), .running(let id): id
        case .creating, .ended: nil
        }
    }

    var isBooting: Bool {
        if case .booting = phase { return true }
        return false
    }

    enum CreatedAction: Sendable, Hashable {
        /// Watch the instance until it runs.
        case watch
        /// A stop came first: terminate the new instance at once.
        case terminate(String)
    }

    /// `run-instances` answered.
    mutating func created(instanceID: String, at now: ContinuousClock.Instant) -> CreatedAction {
        guard case .creating = phase else { return .terminate(instanceID) }
        if stopRequested {
            phase = .ended
            return .terminate(instanceID)
        }
        phase = .booting(instanceID: instanceID, since: now)
        return .watch
    }

    /// `run-instances` failed.
    mutating func creationFailed() -> Bool {
        guard case .creating = phase else { return false }
        phase = .ended
        return !stopRequested
    }

    enum ObservedAction: Sendable, Hashable {
        /// Nothing to do yet.
        case wait
        /// Report `booted`.
        case booted
        /// Report `launchFailed` with this message (the instance ended before it ran).
        case failed(String)
        /// Report `launchFailed` and terminate the instance (it did not run in time).
        case timedOut(String)
    }

    /// DescribeInstances showed the instance in `state` (nil when it was not in the answer yet).
    mutating func observed(state: String?, reason: String?, at now: ContinuousClock.Instant, bootTimeout: Duration) -> ObservedAction {
        guard case .booting(let id, let since) = phase else { return .wait }
        switch state {
        case "running":
            phase = .running(instanceID: id)
            return .booted
        case "shutting-down", "terminated", "stopping", "stopped":
            phase = .ended
            return .failed("instance \(id) is \(state ?? "gone") before it ran" + (reason.map { ": \($0)" } ?? ""))
        default:
            guard now - since >= bootTimeout else { return .wait }
            phase = .ended
            return .timedOut("instance \(id) did not reach running within \(bootTimeout) (last state: \(state ?? "not listed yet"))")
        }
    }

    enum StopAction: Sendable, Hashable {
        /// Terminate this instance.
        case terminate(String)
        /// Nothing to terminate (yet: a creating instance is terminated once it exists).
        case none
    }

    /// The node is stopped (killed, retried, or its context ended).
    mutating func stop() -> StopAction {
        switch phase {
        case .creating:
            stopRequested = true
            return .none
        case .booting(let id, _), .running(let id):
            phase = .ended
            return .terminate(id)
        case .ended:
            return .none
        }
    }
}
