import Foundation
import MusterCore

/// What the console knows about one context: the snapshot, kept current by applying events one by one.
///
/// A value type with no I/O and no clock: every update carries its own time. Nodes are indexed by name and
/// every per-workspace and per-state count is kept incrementally, so applying one event costs the same for a
/// context of four nodes as for one of ten thousand.
public struct ConsoleModel: Sendable {
    /// The most output lines kept per node.
    public static let outputLineLimit = 10_000
    /// The most nodes whose output is kept at once (the console fetches a node's output when it is opened).
    public static let outputNodeLimit = 16
    /// The most event log entries kept.
    public static let eventLogLimit = 5_000

    /// The broker address shown in the header.
    public var broker: String
    /// The context shown, once a snapshot (or its creation event) arrived.
    public private(set) var contextID: ContextID?
    /// Its human name.
    public private(set) var contextName = ""
    /// When it was created.
    public private(set) var createdAt: Date?
    /// The context's time limits (boot timeout, lease, deadline), when it has any.
    public private(set) var limits: ContextLimits?
    /// When it last became complete (every node finished), while it is.
    public private(set) var completedAt: Date?
    /// The last event sequence number applied.
    public private(set) var sequence: UInt64 = 0
    /// Its overall status, as last reported.
    public private(set) var status = ContextStatus(
        complete: false,
        allOk: false,
        errorPresent: false,
        registered: 0,
        expected: 0,
        terminated: false,
        counts: [:]
    )
    /// Nodes by state, kept in step with every transition.
    public private(set) var counts = StateCounts()
    /// Workspaces in document order.
    public private(set) var workspaces: [ConsoleWorkspace] = []
    /// Nodes in workspace then slot order (nodes added later come at the end).
    public private(set) var nodes: [ConsoleNode] = []
    /// Roles by name.
    public private(set) var roles: [String: RoleProgress] = [:]
    /// How many nodes have registered.
    public private(set) var registration = RegistrationProgress(registered: 0, expected: 0, completeSince: nil)
    /// The connection to the broker.
    public private(set) var connection = ConnectionState.connecting
    /// For replicas sharing a store: which one answers and the store kind ("replica a:7077, postgres").
    public private(set) var brokerReplica: String?
    /// The event log, newest last.
    public private(set) var eventLog = RingBuffer<EventLogEntry>(capacity: eventLogLimit)
    /// Waiting nodes by what they wait on.
    public private(set) var waits = WaitsIndex()
    /// The contexts the broker knows, with their status (the contexts view, completion), oldest first.
    public private(set) var contextSummaries: [ContextSummary] = []
    /// Whether the broker has answered the list of contexts at least once.
    public private(set) var contextsKnown = false
    /// Who starts the broker's nodes, when the broker has said.
    public private(set) var launcher: BrokerLauncher?
    /// Nodes by state over the last minutes (the header's sparkline).
    public private(set) var history = StateHistory()
    /// The longest node name and the longest first-NIC address, for column widths (never shrink).
    public private(set) var longestName = 0
    /// The longest first-NIC address seen.
    public private(set) var longestAddress = 0
    /// Grows by one with every change; a renderer can skip a frame when it has not moved.
    public private(set) var revision: UInt64 = 0
    /// The critical chain of this state, once asked for (see ``criticalChain``).
    var chainMemo = CriticalChainMemo()

    /// Roles some workspace waits on for readiness rather than registration.
    private(set) var readyWaitRoles: Set<String> = []
    private var outputs: [Int: NodeOutput] = [:]
    /// Nodes whose output is held, least recently filled first.
    private var outputOrder: [Int] = []
    private var nodeIndex: [String: Int] = [:]
    private var workspaceIndex: [String: Int] = [:]

    /// Creates an empty model for the broker at `broker`.
    public init(broker: String) {
        self.broker = broker
    }

    // MARK: Lookup

    /// The index of the node named `name`.
    public func index(ofNode name: String) -> Int? { nodeIndex[name] }

    /// The index of the workspace named `name`.
    public func index(ofWorkspace name: String) -> Int? { workspaceIndex[name] }

    /// The output held for node `index` (empty when none arrived).
    public func output(of index: Int) -> RingBuffer<OutputLine> {
        outputs[index]?.lines ?? RingBuffer(capacity: 1)
    }

    /// The attempt whose output is held for node `index`, if any.
    public func outputAttempt(of index: Int) -> Int? { outputs[index]?.attempt }

    /// The contexts the broker knows (for completion).
    public var knownContexts: [ContextID] { contextSummaries.map(\.id) }

    /// Whether the console has a context to show.
    public var hasContext: Bool { contextID != nil }

    // MARK: Updates

    /// Applies one update and reports what changed.
    @discardableResult
    public mutating func apply(_ update: ConsoleUpdate) -> ModelDelta {
        var delta = ModelDelta()
        switch update {
        case .snapshot(let snapshot):
            load(snapshot)
            delta.structureChanged = true
            delta.changed = true
        case .events(let events):
            for event in events { apply(event, delta: &delta) }
        case .output(let node, let attempt, let lines):
            guard let index = nodeIndex[node], attempt <= nodes[index].generation else { break }
            var output = outputs[index].flatMap { $0.attempt == attempt ? $0 : nil } ?? NodeOutput(attempt: attempt, capacity: Self.outputLineLimit)
            var added = outputs[index]?.attempt != attempt
            for line in lines where output.append(line) { added = true }
            outputs[index] = output
            outputOrder.removeAll { $0 == index }
            outputOrder.append(index)
            if outputOrder.count > Self.outputNodeLimit { outputs[outputOrder.removeFirst()] = nil }
            if added {
                delta.outputNodes.append(index)
                delta.changed = true
            }
        case .connection(let state):
            if state != connection {
                connection = state
                delta.changed = true
            }
        case .broker(let address, let replica):
            if address != broker || replica != brokerReplica {
                broker = address
                brokerReplica = replica
                delta.changed = true
            }
        case .contexts(let summaries):
            if summaries != contextSummaries || !contextsKnown {
                contextSummaries = summaries
                contextsKnown = true
                delta.changed = true
            }
        case .launcher(let launcher):
            if launcher != self.launcher {
                self.launcher = launcher
                delta.changed = true
            }
        }
        if delta.changed {
            revision += 1
            chainMemo = CriticalChainMemo()
        }
        return delta
    }

    /// Adds the console's own entry to the event log (an action's result, for example).
    public mutating func log(_ entry: EventLogEntry) {
        eventLog.append(entry)
        revision += 1
    }

    /// Replaces everything known with a snapshot. O(nodes); snapshots are rare (connect, reconnect, switch).
    private mutating func load(_ snapshot: ContextSnapshot) {
        let sameContext = contextID == snapshot.id
        var keptOutputs: [String: NodeOutput] = [:]
        if sameContext {
            for (index, output) in outputs { keptOutputs[nodes[index].name] = output }
        } else {
            eventLog.removeAll()
            history.reset()
        }
        contextID = snapshot.id
        contextName = snapshot.name
        createdAt = snapshot.createdAt
        limits = snapshot.limits
        sequence = snapshot.sequence
        status = snapshot.status
        counts = StateCounts(snapshot.status.counts)
        completedAt = snapshot.status.complete ? (snapshot.nodes.map(\.since).max() ?? snapshot.createdAt) : nil
        workspaces = snapshot.workspaces.map(ConsoleWorkspace.init)
        readyWaitRoles = Set(workspaces.flatMap { $0.requiredRoles.filter { $0.wait == .ready }.map(\.name) })
        workspaceIndex = Dictionary(workspaces.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        nodes = []
        nodes.reserveCapacity(snapshot.nodes.count)
        nodeIndex = [:]
        nodeIndex.reserveCapacity(snapshot.nodes.count)
        waits = WaitsIndex()
        outputs = [:]
        outputOrder = []
        longestName = 0
        longestAddress = 0
        for node in snapshot.nodes {
            guard let workspace = workspaceIndex[node.workspace] else { continue }
            let index = nodes.count
            nodes.append(ConsoleNode(node, workspace: workspace, contextCreatedAt: snapshot.createdAt))
            nodeIndex[node.name] = index
            workspaces[workspace].nodes.append(index)
            workspaces[workspace].counts[node.state] += 1
            if node.state == .waiting { waits.add(index, labels: nodes[index].waitingOn) }
            noteWidths(of: nodes[index])
            if let output = keptOutputs[node.name], output.attempt <= node.generation {
                outputs[index] = output
                outputOrder.append(index)
            }
        }
        loadRoles(snapshot)
        history.record(counts, at: snapshot.nodes.map(\.since).max() ?? snapshot.createdAt)
    }

    private mutating func loadRoles(_ snapshot: ContextSnapshot) {
        roles = [:]
        for status in snapshot.roles {
            let providers = workspaces.indices.filter { workspaces[$0].roles.contains(status.role) }
            roles[status.role] = RoleProgress(status: status, registeredSince: nil, readySince: nil, providerWorkspaces: providers)
        }
        registration = RegistrationProgress(registered: snapshot.status.registered, expected: snapshot.status.expected, completeSince: nil)
        // Since-dates come from the requirements of one node per workspace (they are the same for all its nodes).
        for workspace in workspaces {
            guard let first = workspace.nodes.first, let node = snapshot.nodes.first(where: { $0.name == nodes[first].name }) else { continue }
            for requirement in node.requirements {
                switch requirement.kind {
                case .allIdentities:
                    registration.completeSince = requirement.metSince
                case .role(let name):
                    if requirement.wait == .ready {
                        roles[name]?.readySince = requirement.metSince
                    } else {
                        roles[name]?.registeredSince = requirement.metSince
                    }
                }
            }
        }
    }

    private mutating func noteWidths(of node: ConsoleNode) {
        longestName = max(longestName, node.name.count)
        if let ip = node.ip { longestAddress = max(longestAddress, ip.count) }
    }

    /// Applies one event. Events of other contexts and events the snapshot already included are ignored.
    private mutating func apply(_ event: ContextEvent, delta: inout ModelDelta) {
        if contextID == nil, case .contextCreated = event.change { contextID = event.context }
        guard event.context == contextID else { return }
        guard event.sequence > sequence else {
            remember(event, delta: &delta)
            return
        }
        sequence = event.sequence
        eventLog.append(EventLogEntry(event))
        delta.loggedEntries += 1
        delta.changed = true
        switch event.change {
        case .contextCreated(let name, let workspaceNames, let nodeNames):
            guard nodes.isEmpty else { break }
            create(name: name, workspaces: workspaceNames, nodes: nodeNames, at: event.time)
            delta.structureChanged = true
        case .nodeAdded(let name, let workspace):
            guard nodeIndex[name] == nil, let workspaceIndex = workspaceIndex[workspace] else { break }
            // The slot is the name's number (slots removed earlier leave gaps).
            let slot = Int(name.dropFirst(workspace.count + 1)) ?? workspaces[workspaceIndex].nodes.count
            append(ConsoleNode(name: name, workspace: workspaceIndex, slot: slot, since: event.time))
            delta.structureChanged = true
        case .nodeRemoved(let name, _):
            guard let index = nodeIndex[name] else { break }
            remove(index, delta: &delta)
        case .nodeState(let transition):
            guard let index = nodeIndex[transition.node] else { break }
            move(index, with: transition, at: event.time)
            delta.touchedNodes.append(index)
        case .nodeRegistered(let name, let identities):
            guard let index = nodeIndex[name] else { break }
            nodes[index].identities = identities
            nodes[index].registeredAt = nodes[index].registeredAt ?? event.time
            noteWidths(of: nodes[index])
            delta.touchedNodes.append(index)
        case .roleProgress(let new):
            if roles[new.role] == nil {
                let providers = workspaces.indices.filter { workspaces[$0].roles.contains(new.role) }
                roles[new.role] = RoleProgress(status: new, registeredSince: nil, readySince: nil, providerWorkspaces: providers)
            }
            roles[new.role]?.update(new, at: event.time)
        case .registrationProgress(let registered, let expected):
            let complete = expected > 0 && registered >= expected
            registration = RegistrationProgress(
                registered: registered,
                expected: expected,
                completeSince: complete ? (registration.completeSince ?? event.time) : nil
            )
        case .scriptStarted(let name, let script):
            guard let index = nodeIndex[name] else { break }
            if let last = nodes[index].timeline.last, last.finished == nil, last.script == script { break }
            nodes[index].timeline.append(ScriptRun(script: script, started: event.time))
            delta.touchedNodes.append(index)
        case .scriptFinished(let name, let script, let exitCode, _):
            guard let index = nodeIndex[name], let run = nodes[index].timeline.lastIndex(where: { $0.script == script }) else { break }
            nodes[index].timeline[run].finished = event.time
            nodes[index].timeline[run].exitCode = exitCode
            delta.touchedNodes.append(index)
        case .providerJoined:
            break
        case .contextStatus(let new):
            status = new
            if new.complete {
                completedAt = completedAt ?? event.time
            } else {
                completedAt = nil
            }
        case .contextTerminated:
            status.terminated = true
        case .contextDeleted:
            // The broker forgot the context; what the console shows stays, as it was at the end.
            status.terminated = true
        case .contextLimits(let new):
            limits = new
        case .nodeMachine(let node, let machine):
            if let index = nodeIndex[node] {
                nodes[index].machine = machine
                delta.touchedNodes.append(index)
            }
        }
        if case .nodeState = event.change { history.record(counts, at: event.time) }
    }

    /// An event the snapshot already included: only what the snapshot lacks is taken from it (when each node's
    /// attempt was launched and checked in, for the timeline), and it goes to the event log as history.
    private mutating func remember(_ event: ContextEvent, delta: inout ModelDelta) {
        eventLog.append(EventLogEntry(event))
        delta.loggedEntries += 1
        delta.changed = true
        guard let name = event.change.node, let index = nodeIndex[name] else { return }
        switch event.change {
        case .nodeState(let transition) where transition.to == .launching:
            if transition.from.isRetryable { nodes[index].registeredAt = nil }
            nodes[index].launchedAt = event.time
        case .nodeRegistered:
            nodes[index].registeredAt = nodes[index].registeredAt ?? event.time
        default:
            return
        }
        delta.touchedNodes.append(index)
    }

    /// Builds workspaces and pending nodes from a creation event, for a feed that sent no snapshot.
    private mutating func create(name: String, workspaces names: [String], nodes nodeNames: [String], at time: Date) {
        contextName = name
        createdAt = time
        workspaces = names.map { ConsoleWorkspace(name: $0) }
        workspaceIndex = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var workspace = 0
        for node in nodeNames {
            while workspace < names.count,
                !node.hasPrefix(names[workspace] + "-")
                    || Int(node.dropFirst(names[workspace].count + 1)) != workspaces[workspace].nodes.count
            {
                workspace += 1
            }
            guard workspace < names.count else { break }
            append(ConsoleNode(name: node, workspace: workspace, slot: workspaces[workspace].nodes.count, since: time))
        }
    }

    private mutating func append(_ node: ConsoleNode) {
        let index = nodes.count
        nodes.append(node)
        nodeIndex[node.name] = index
        workspaces[node.workspace].nodes.append(index)
        workspaces[node.workspace].counts[node.state] += 1
        counts[node.state] += 1
        noteWidths(of: node)
    }

    /// Removes node `index` (its slot was removed) and renumbers every index that points at nodes; the delta
    /// carries the renumbering so that view state (marks, selection) follows.
    private mutating func remove(_ index: Int, delta: inout ModelDelta) {
        let node = nodes[index]
        var renumbering: [Int?] = Array(nodes.indices)
        renumbering[index] = nil
        for later in (index + 1)..<nodes.count { renumbering[later] = later - 1 }
        func renumbered(_ old: Int) -> Int? { renumbering[old] }
        if node.state == .waiting { waits.remove(index, labels: node.waitingOn) }
        workspaces[node.workspace].counts[node.state] -= 1
        counts[node.state] -= 1
        nodes.remove(at: index)
        nodeIndex[node.name] = nil
        for later in index..<nodes.count { nodeIndex[nodes[later].name] = later }
        for workspace in workspaces.indices { workspaces[workspace].nodes = workspaces[workspace].nodes.compactMap(renumbered) }
        waits = WaitsIndex()
        for waiting in nodes.indices where nodes[waiting].state == .waiting { waits.add(waiting, labels: nodes[waiting].waitingOn) }
        var kept: [Int: NodeOutput] = [:]
        for (old, output) in outputs { if let new = renumbered(old) { kept[new] = output } }
        outputs = kept
        outputOrder = outputOrder.compactMap(renumbered)
        delta.touchedNodes = delta.touchedNodes.compactMap(renumbered)
        delta.outputNodes = delta.outputNodes.compactMap(renumbered)
        delta.renumbered = delta.renumbered.map { earlier in earlier.map { $0.flatMap(renumbered) } } ?? renumbering
        delta.structureChanged = true
    }

    /// Moves a node to a new state, keeping counts and the waits index in step.
    private mutating func move(_ index: Int, with transition: NodeTransition, at time: Date) {
        let old = nodes[index].state
        let new = transition.to
        if old == .waiting { waits.remove(index, labels: nodes[index].waitingOn) }
        workspaces[nodes[index].workspace].counts.move(from: old, to: new)
        counts.move(from: old, to: new)
        if new == .launching && old.isRetryable {
            nodes[index].generation += 1
            nodes[index].identities = []
            nodes[index].timeline = []
            nodes[index].releasedAt = nil
            nodes[index].registeredAt = nil
            nodes[index].finishedAt = nil
        }
        if new == .launching { nodes[index].launchedAt = time }
        if new.isTerminal { nodes[index].finishedAt = time }
        nodes[index].state = new
        nodes[index].since = time
        nodes[index].exitCode = transition.exitCode
        nodes[index].message = transition.message
        if new == .configuring { nodes[index].releasedAt = time }
        if new == .waiting {
            nodes[index].waitingOn = transition.waitingOn ?? unmetLabels(of: index)
            waits.add(index, labels: nodes[index].waitingOn)
        } else {
            nodes[index].waitingOn = []
        }
    }
}
