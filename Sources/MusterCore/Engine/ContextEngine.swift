import Foundation

/// The events and actions one command produced.
public struct EngineOutcome: Sendable, Hashable {
    /// What changed, numbered in order.
    public var events: [ContextEvent]
    /// What the world outside the engine must do now (launch, stop, answer a long-poll, …).
    public var actions: [EngineAction]

    /// Creates an outcome.
    public init(events: [ContextEvent] = [], actions: [EngineAction] = []) {
        self.events = events
        self.actions = actions
    }
}

/// The context broker's blackboard as a pure value state machine.
///
/// Every input is an ``EngineCommand`` applied at a time the caller passes in; it returns the numbered
/// ``ContextEvent``s it caused and the ``EngineAction``s the caller must carry out. The engine does no I/O and
/// reads no clock, so a broker can persist the commands and replay them to rebuild exactly the same state, and
/// tests can drive every order of inputs.
///
/// A refused command throws ``EngineError`` and changes nothing.
///
/// ```swift
/// var engine = ContextEngine()
/// let created = try engine.apply(.createContext(id: "c1", name: "cpe", document: document), at: .now)
/// let released = try engine.apply(.checkIn(context: "c1", node: "rabbitmq-head-0", identities: [identity]), at: .now)
/// ```
public struct ContextEngine: Sendable, Codable {
    /// The contexts, by id.
    public private(set) var contexts: [ContextID: ContextState] = [:]
    /// Context ids in creation order.
    public private(set) var contextOrder: [ContextID] = []
    /// The sequence number of the last event (0 before any).
    public private(set) var lastSequence: UInt64 = 0

    /// Creates an empty engine.
    public init() {}

    /// Applies one command.
    public mutating func apply(_ command: EngineCommand, at time: Date) throws(EngineError) -> EngineOutcome {
        var recorder = ContextState.Recorder()
        let contextID = command.context
        if case .createContext(let id, let name, let document) = command {
            guard contexts[id] == nil else { throw EngineError(.duplicateContext, "a context with id '\(id)' exists already") }
            contexts[id] = try ContextState(id: id, name: name, document: document, at: time, recorder: &recorder)
            contextOrder.append(id)
        } else if case .deleteContext(let id) = command {
            guard let state = contexts[id] else { throw EngineError(.unknownContext, "no context with id '\(id)'") }
            guard state.canBeDeleted else {
                let running = state.runningCounts.map { "\($0.value) \($0.key.rawValue)" }.sorted().joined(separator: ", ")
                throw EngineError(
                    .conflict,
                    "context '\(id)' has nodes still running (\(running)); terminate it first, or delete it with force (which terminates it)"
                )
            }
            contexts[id] = nil
            contextOrder.removeAll { $0 == id }
            recorder.changes.append(.contextDeleted)
        } else {
            guard contexts[contextID] != nil else { throw EngineError(.unknownContext, "no context with id '\(contextID)'") }
            try Self.apply(command, to: &contexts[contextID]!, at: time, recorder: &recorder)
        }
        var events: [ContextEvent] = []
        events.reserveCapacity(recorder.changes.count)
        for change in recorder.changes {
            lastSequence += 1
            events.append(ContextEvent(sequence: lastSequence, time: time, context: contextID, change: change))
        }
        return EngineOutcome(events: events, actions: recorder.actions)
    }

    private static func apply(
        _ command: EngineCommand,
        to state: inout ContextState,
        at time: Date,
        recorder: inout ContextState.Recorder
    ) throws(EngineError) {
        switch command {
        case .createContext, .deleteContext:
            preconditionFailure("handled by apply(_:at:)")
        case .addNodes(_, let workspace, let count):
            try state.addNodes(workspace: workspace, count: count, at: time, recorder: &recorder)
        case .removeNodes(_, let nodes):
            try state.removeNodes(nodes, at: time, recorder: &recorder)
        case .launch(_, let node):
            try state.launch(node, at: time, recorder: &recorder)
        case .booted(_, let node):
            try state.booted(node, at: time, recorder: &recorder)
        case .launchFailed(_, let node, let message):
            try state.launchFailed(node, message: message, at: time, recorder: &recorder)
        case .checkIn(_, let node, let identities):
            try state.checkIn(node, identities: identities, at: time, recorder: &recorder)
        case .scriptStarted(_, let node, let script):
            try state.scriptStarted(node, script: script, at: time, recorder: &recorder)
        case .scriptFinished(_, let node, let script, let exitCode):
            try state.scriptFinished(node, script: script, exitCode: exitCode, at: time, recorder: &recorder)
        case .report(_, let node, let result):
            try state.report(node, result: result, at: time, recorder: &recorder)
        case .kill(_, let node):
            try state.kill(node, at: time, recorder: &recorder)
        case .retry(_, let node):
            try state.retry(node, at: time, recorder: &recorder)
        case .timeOut(_, let node, let message):
            try state.timeOut(node, message: message, at: time, recorder: &recorder)
        case .terminate:
            state.terminate(at: time, recorder: &recorder)
        case .setLimits(_, let limits):
            try state.setLimits(limits, recorder: &recorder)
        case .leaseEnded:
            state.terminate(at: time, message: "the context's lease ended", recorder: &recorder)
        case .machine(_, let node, let details):
            try state.machine(node, details: details, recorder: &recorder)
        }
    }

    /// The context with this id.
    public func context(_ id: ContextID) throws(EngineError) -> ContextState {
        guard let context = contexts[id] else { throw EngineError(.unknownContext, "no context with id '\(id)'") }
        return context
    }

    /// How many node slots the engine holds, over every context.
    public var nodeCount: Int { contexts.values.reduce(0) { $0 + $1.nodes.count } }

    /// A consistent snapshot of one context, stamped with the engine's last sequence number.
    public func snapshot(of id: ContextID) throws(EngineError) -> ContextSnapshot {
        try context(id).snapshot(sequence: lastSequence)
    }
}
