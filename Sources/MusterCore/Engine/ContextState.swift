import Foundation

/// The state of one context: its nodes, the roles they provide, who waits on whom.
///
/// This is the blackboard of the Nimbus broker as a value. Every input goes through ``ContextEngine``; reads
/// (``snapshot(sequence:)``, ``answer(for:)``) are pure functions of the state. Provider counts are kept per role
/// and updated incrementally, so a check-in costs time in proportion to the nodes it affects, not to the context.
public struct ContextState: Sendable, Codable {
    /// The context id.
    public let id: ContextID
    /// Its human name.
    public let name: String
    /// When it was created.
    public let createdAt: Date
    /// Whether it was terminated.
    public internal(set) var terminated = false
    /// Its time limits (enforced by the broker through ``dueCommands(at:)``).
    public internal(set) var limits = ContextLimits()

    var workspaces: [WorkspaceRecord] = []
    var workspaceIndex: [String: Int] = [:]
    var nodes: [NodeRecord] = []
    var nodeIndex: [String: Int] = [:]
    var roles: [String: RoleRecord] = [:]
    /// Nodes whose workspace requires every identity.
    var allIdentityRequirers: [Int] = []
    /// Nodes that count as registered (identity in, not killed).
    var registeredNodes = 0
    /// When every node last became registered, while that holds.
    var allRegisteredSince: Date?
    var counts: [NodeState: Int] = [:]
    /// The status last announced in a `contextStatus` event.
    var announcedStatus: ContextStatus?
    /// Whether a node that requires every identity was ever released (only then can a check-in concern one).
    var allIdentityRequirerReleased = false

    struct WorkspaceRecord: Sendable, Codable {
        var spec: WorkspaceSpec
        var nodes: [Int] = []
        /// How many slots were ever made (names are never reused once a slot is removed); `nil` in states saved
        /// before slots could be removed, where it equals the number of nodes.
        var slotsMade: Int?
    }

    struct NodeRecord: Sendable, Codable {
        var name: String
        var workspace: Int
        var slot: Int
        var state: NodeState = .pending
        var since: Date
        var generation = 0
        var identities: [Identity] = []
        var releasedAt: Date?
        var answerVersion = 0
        var timeline: [ScriptRun] = []
        var exitCode: Int?
        var message: String?
        /// When the current generation was launched (what the boot timeout counts from).
        var launchedAt: Date?
        /// What the launcher said of the machine behind the current generation.
        var machine: MachineDetails?

        var isRegistered: Bool { !identities.isEmpty && state != .killed }
        var isReady: Bool { state == .ok }
        var isReleased: Bool { releasedAt != nil && state != .killed }
    }

    struct RoleRecord: Sendable, Codable {
        struct Provider: Sendable, Codable {
            var node: Int
            var interface: String?
        }

        var name: String
        var providers: [Provider] = []
        var requirers: [Int] = []
        var registered = 0
        var ready = 0
        var registeredSince: Date?
        var readySince: Date?

        var status: RoleStatus { RoleStatus(role: name, registered: registered, ready: ready, expected: providers.count) }
    }

    /// Records what a command changed, in order, for ``ContextEngine`` to number.
    struct Recorder {
        var changes: [ContextChange] = []
        var actions: [EngineAction] = []
    }

    init(id: ContextID, name: String, document: ClusterDocument, at time: Date, recorder: inout Recorder) throws(EngineError) {
        try Self.checkDocument(document)
        self.id = id
        self.name = name
        self.createdAt = time
        for spec in document.workspaces {
            workspaceIndex[spec.name] = workspaces.count
            workspaces.append(WorkspaceRecord(spec: spec))
            for role in spec.provides.roles where roles[role.name] == nil {
                roles[role.name] = RoleRecord(name: role.name)
            }
            for role in spec.requires.roles where roles[role.name] == nil {
                roles[role.name] = RoleRecord(name: role.name)
            }
        }
        for workspace in workspaces.indices {
            for _ in 0..<workspaces[workspace].spec.quantity { appendNode(to: workspace, at: time) }
        }
        counts[.pending] = nodes.count
        recorder.changes.append(.contextCreated(name: name, workspaces: workspaces.map(\.spec.name), nodes: nodes.map(\.name)))
        announceStatus(&recorder)
    }

    private static func checkDocument(_ document: ClusterDocument) throws(EngineError) {
        guard !document.workspaces.isEmpty else { throw EngineError(.invalidInput, "the cluster document has no workspace") }
        var names: Set<String> = []
        for workspace in document.workspaces {
            guard names.insert(workspace.name).inserted else {
                throw EngineError(.invalidInput, "workspace name '\(workspace.name)' is used twice")
            }
            guard workspace.quantity >= 1 else {
                throw EngineError(.invalidInput, "workspace '\(workspace.name)' has quantity \(workspace.quantity)")
            }
            guard !workspace.nics.isEmpty else { throw EngineError(.invalidInput, "workspace '\(workspace.name)' has no NIC") }
        }
        guard document.nodeCount <= ClusterValidator.maximumNodes else {
            throw EngineError(.invalidInput, "the cluster starts \(document.nodeCount) nodes; at most \(ClusterValidator.maximumNodes) are allowed")
        }
    }

    /// Adds one pending slot to a workspace and indexes it under the roles it provides and requires.
    private mutating func appendNode(to workspace: Int, at time: Date) {
        let index = nodes.count
        let slot = workspaces[workspace].slotsMade ?? workspaces[workspace].nodes.count
        workspaces[workspace].slotsMade = slot + 1
        let spec = workspaces[workspace].spec
        let name = spec.nodeName(slot)
        nodes.append(NodeRecord(name: name, workspace: workspace, slot: slot, since: time))
        nodeIndex[name] = index
        workspaces[workspace].nodes.append(index)
        var seen: Set<String> = []
        for role in spec.provides.roles where seen.insert(role.name).inserted {
            roles[role.name]!.providers.append(.init(node: index, interface: role.interface))
            roles[role.name]!.registeredSince = nil
            roles[role.name]!.readySince = nil
        }
        seen = []
        for role in spec.requires.roles where seen.insert(role.name).inserted {
            roles[role.name]!.requirers.append(index)
        }
        if spec.requires.allIdentities { allIdentityRequirers.append(index) }
        allRegisteredSince = nil
    }

    // MARK: Lookup

    func nodeIndex(_ name: String) throws(EngineError) -> Int {
        guard let index = nodeIndex[name] else {
            throw EngineError(.unknownNode, "context '\(id)' has no node '\(name)'")
        }
        return index
    }

    func checkNotTerminated() throws(EngineError) {
        if terminated { throw EngineError(.conflict, "context '\(id)' was terminated") }
    }

    // MARK: Commands

    mutating func addNodes(workspace name: String, count: Int, at time: Date, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        guard let workspace = workspaceIndex[name] else {
            throw EngineError(.unknownWorkspace, "context '\(id)' has no workspace '\(name)'")
        }
        guard count >= 1 else { throw EngineError(.invalidInput, "the number of nodes to add must be at least 1, not \(count)") }
        // Compared as "room left" so that a huge count from the wire cannot overflow.
        guard count <= ClusterDocumentDecoder.maximumQuantity - workspaces[workspace].nodes.count,
            count <= ClusterValidator.maximumNodes - nodes.count
        else {
            throw EngineError(.invalidInput, "adding \(Plural.count(count, "node")) would exceed the limit of nodes per workspace or per context")
        }
        let first = nodes.count
        for _ in 0..<count { appendNode(to: workspace, at: time) }
        counts[.pending, default: 0] += count
        for index in first..<nodes.count {
            recorder.changes.append(.nodeAdded(node: nodes[index].name, workspace: name))
        }
        for role in providedRoles(of: first) {
            recorder.changes.append(.roleProgress(roles[role]!.status))
        }
        recorder.changes.append(.registrationProgress(registered: registeredNodes, expected: nodes.count))
        announceStatus(&recorder)
    }

    mutating func launch(_ name: String, at time: Date, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        let index = try nodeIndex(name)
        guard nodes[index].state == .pending else {
            throw EngineError(.conflict, "node '\(name)' is \(nodes[index].state.rawValue); only a pending node can be launched (use retry)")
        }
        transition(index, to: .launching, at: time, recorder: &recorder)
        nodes[index].launchedAt = time
        recorder.actions.append(.launch(context: id, node: name, generation: nodes[index].generation))
        announceStatus(&recorder)
    }

    mutating func booted(_ name: String, at time: Date, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        let index = try nodeIndex(name)
        // An agent can check in before the launcher notices the process is up; then this is old news.
        guard nodes[index].state == .pending || nodes[index].state == .launching else { return }
        transition(index, to: .booted, at: time, recorder: &recorder)
        announceStatus(&recorder)
    }

    mutating func launchFailed(_ name: String, message: String, at time: Date, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        let index = try nodeIndex(name)
        guard [.pending, .launching, .booted].contains(nodes[index].state) else {
            throw EngineError(.conflict, "node '\(name)' is \(nodes[index].state.rawValue); its launch already succeeded")
        }
        transition(index, to: .failed, exitCode: NodeExitCode.launch, message: message, at: time, recorder: &recorder)
        announceStatus(&recorder)
    }

    mutating func checkIn(_ name: String, identities: [Identity], at time: Date, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        let index = try nodeIndex(name)
        try checkIdentities(identities, for: index)
        let node = nodes[index]
        switch node.state {
        case .killed:
            throw EngineError(.conflict, "node '\(name)' was killed; retry it to start it again")
        case .pending, .launching, .booted:
            recorder.changes.append(.nodeRegistered(node: name, identities: identities))
            let completed = transition(index, to: .registered, identities: identities, at: time, recorder: &recorder)
            tellReleasedRequirers(about: index, recorder: &recorder)
            if isMet(index) {
                release(index, at: time, recorder: &recorder)
            } else {
                transition(index, to: .waiting, waitingOn: unmetLabels(index), at: time, recorder: &recorder)
            }
            releaseWaiters(completed, at: time, recorder: &recorder)
        default:
            // The agent restarted and checked in again: refresh its identity, tell whoever already knew it.
            guard node.identities != identities else { return }
            nodes[index].identities = identities
            recorder.changes.append(.nodeRegistered(node: name, identities: identities))
            tellReleasedRequirers(about: index, recorder: &recorder)
        }
        announceStatus(&recorder)
    }

    private func checkIdentities(_ identities: [Identity], for index: Int) throws(EngineError) {
        let labels = workspaces[nodes[index].workspace].spec.nics.map(\.label)
        guard !identities.isEmpty else {
            throw EngineError(.invalidInput, "a check-in needs one identity per NIC (\(labels.joined(separator: ", ")))")
        }
        guard identities.count <= labels.count else {
            throw EngineError(
                .invalidInput,
                "node '\(nodes[index].name)' sent \(Plural.count(identities.count, "identity", plural: "identities")); it has \(Plural.count(labels.count, "NIC")) (\(labels.joined(separator: ", ")))"
            )
        }
        var seen: Set<String> = []
        for identity in identities {
            // Every field is checked before it is compared or stored: these values reach other nodes' host files.
            do {
                try identity.validate()
            } catch {
                throw EngineError(.invalidInput, "node '\(nodes[index].name)': \(error.message)")
            }
            guard labels.contains(identity.interface) else {
                throw EngineError(
                    .invalidInput,
                    "node '\(nodes[index].name)' has no NIC '\(identity.interface)' (its NICs: \(labels.joined(separator: ", ")))"
                )
            }
            guard seen.insert(identity.interface).inserted else {
                throw EngineError(.invalidInput, "NIC '\(identity.interface)' has two identities")
            }
        }
        guard seen.count == labels.count else {
            let missing = labels.filter { !seen.contains($0) }
            throw EngineError(.invalidInput, "missing identity for NIC \(missing.map { "'\($0)'" }.joined(separator: ", "))")
        }
    }

    mutating func scriptStarted(_ name: String, script: ScriptRef, at time: Date, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        let index = try nodeIndex(name)
        try checkRunningScripts(index)
        // A retried request (the first answer was lost) must not add the run twice.
        if let last = nodes[index].timeline.last, last.finished == nil, last.script == script { return }
        nodes[index].timeline.append(ScriptRun(script: script, started: time))
        recorder.changes.append(.scriptStarted(node: name, script: script))
    }

    mutating func scriptFinished(_ name: String, script: ScriptRef, exitCode: Int, at time: Date, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        let index = try nodeIndex(name)
        try checkRunningScripts(index)
        guard let run = nodes[index].timeline.lastIndex(where: { $0.script == script }) else {
            throw EngineError(.invalidInput, "node '\(name)' never started \(script.script)")
        }
        if nodes[index].timeline[run].finished != nil { return }
        nodes[index].timeline[run].finished = time
        nodes[index].timeline[run].exitCode = exitCode
        let seconds = time.timeIntervalSince(nodes[index].timeline[run].started)
        recorder.changes.append(.scriptFinished(node: name, script: script, exitCode: exitCode, seconds: seconds))
    }

    private func checkRunningScripts(_ index: Int) throws(EngineError) {
        let state = nodes[index].state
        guard state == .configuring || state == .ok else {
            throw EngineError(.conflict, "node '\(nodes[index].name)' is \(state.rawValue); scripts run only after it is released")
        }
    }

    mutating func report(_ name: String, result: NodeResult, at time: Date, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        let index = try nodeIndex(name)
        let state = nodes[index].state
        switch result {
        case .ok:
            if state == .ok { return }
            guard state == .configuring else {
                throw EngineError(.conflict, "node '\(name)' is \(state.rawValue); it can report ok only after it was released")
            }
            let completed = transition(index, to: .ok, at: time, recorder: &recorder)
            releaseWaiters(completed, at: time, recorder: &recorder)
        case .error(let code, let message):
            if state == .failed, nodes[index].exitCode == code, nodes[index].message == message { return }
            guard [.launching, .booted, .registered, .waiting, .configuring, .ok].contains(state) else {
                throw EngineError(.conflict, "node '\(name)' is \(state.rawValue); it cannot report an error now")
            }
            transition(index, to: .failed, exitCode: code, message: message, at: time, recorder: &recorder)
        }
        announceStatus(&recorder)
    }

    mutating func kill(_ name: String, at time: Date, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        let index = try nodeIndex(name)
        guard nodes[index].state != .killed else { return }
        transition(index, to: .killed, message: "killed by the operator", at: time, recorder: &recorder)
        recorder.actions.append(.stop(context: id, node: name))
        announceStatus(&recorder)
    }

    mutating func timeOut(_ name: String, message: String, at time: Date, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        let index = try nodeIndex(name)
        guard !nodes[index].state.isTerminal else { return }
        transition(index, to: .timedOut, exitCode: NodeExitCode.timeout, message: message, at: time, recorder: &recorder)
        recorder.actions.append(.stop(context: id, node: name))
        announceStatus(&recorder)
    }

    mutating func retry(_ name: String, at time: Date, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        let index = try nodeIndex(name)
        let state = nodes[index].state
        guard state.isRetryable else {
            throw EngineError(
                .conflict,
                "node '\(name)' is \(state.rawValue); only a failed, killed or timed-out node can be retried (kill it first)"
            )
        }
        nodes[index].generation += 1
        nodes[index].releasedAt = nil
        nodes[index].answerVersion = 0
        nodes[index].timeline = []
        nodes[index].machine = nil
        transition(index, to: .launching, identities: [], at: time, recorder: &recorder)
        nodes[index].launchedAt = time
        recorder.actions.append(.launch(context: id, node: name, generation: nodes[index].generation))
        announceStatus(&recorder)
    }

    mutating func setLimits(_ limits: ContextLimits, recorder: inout Recorder) throws(EngineError) {
        try checkNotTerminated()
        if let seconds = limits.bootTimeoutSeconds, seconds < 1 {
            throw EngineError(.invalidInput, "a boot timeout must be at least 1 second, not \(seconds)")
        }
        guard limits != self.limits else { return }
        self.limits = limits
        recorder.changes.append(.contextLimits(limits))
    }

    mutating func machine(_ name: String, details: MachineDetails, recorder: inout Recorder) throws(EngineError) {
        let index = try nodeIndex(name)
        guard nodes[index].machine != details else { return }
        nodes[index].machine = details
        recorder.changes.append(.nodeMachine(node: name, machine: details))
    }

    mutating func terminate(at time: Date, message: String = "the context was terminated", recorder: inout Recorder) {
        guard !terminated else { return }
        for index in nodes.indices {
            switch nodes[index].state {
            case .ok:
                // Its result stands, but its agent (still attached for late providers) and machine are stopped too.
                recorder.actions.append(.stop(context: id, node: nodes[index].name))
            case let state where !state.isTerminal:
                transition(index, to: .killed, message: message, at: time, recorder: &recorder)
                recorder.actions.append(.stop(context: id, node: nodes[index].name))
            default:
                // A failed, killed or timed-out node's agent has ended, but its machine (an EC2 instance kept for
                // a look at what went wrong) is still there: the end of the context ends it too.
                recorder.actions.append(.stop(context: id, node: nodes[index].name))
            }
        }
        terminated = true
        recorder.changes.append(.contextTerminated)
        announceStatus(&recorder)
    }

    // MARK: Transitions

    /// Requirements that a transition completed: only their requirers can have become releasable.
    struct Completion {
        /// Roles whose every provider became registered (`registered` waits) or ready (`ready` waits).
        var roles: [(name: String, wait: WaitCondition)] = []
        /// Every node became registered.
        var allIdentities = false
    }

    /// Moves a node to `state` (and, if given, new identities), keeping every provider count in step.
    ///
    /// This is the only place that changes a node's state, so the per-role registered/ready counts, the
    /// per-state counts and the events can never disagree.
    @discardableResult
    mutating func transition(
        _ index: Int,
        to state: NodeState,
        identities: [Identity]? = nil,
        exitCode: Int? = nil,
        message: String? = nil,
        waitingOn: [String]? = nil,
        at time: Date,
        recorder: inout Recorder
    ) -> Completion {
        let previous = nodes[index].state
        let wasRegistered = nodes[index].isRegistered
        let wasReady = nodes[index].isReady
        counts[previous, default: 0] -= 1
        if counts[previous] == 0 { counts[previous] = nil }
        counts[state, default: 0] += 1
        nodes[index].state = state
        nodes[index].since = time
        nodes[index].exitCode = exitCode
        nodes[index].message = message
        if let identities { nodes[index].identities = identities }
        recorder.changes.append(
            .nodeState(NodeTransition(node: nodes[index].name, from: previous, to: state, exitCode: exitCode, message: message, waitingOn: waitingOn))
        )

        var completion = Completion()
        let registeredDelta = (nodes[index].isRegistered ? 1 : 0) - (wasRegistered ? 1 : 0)
        let readyDelta = (nodes[index].isReady ? 1 : 0) - (wasReady ? 1 : 0)
        guard registeredDelta != 0 || readyDelta != 0 else { return completion }
        for role in providedRoles(of: index) {
            let wasMet = (roles[role]!.status.isMet(for: .registered), roles[role]!.status.isMet(for: .ready))
            roles[role]!.registered += registeredDelta
            roles[role]!.ready += readyDelta
            let status = roles[role]!.status
            for (wait, before) in [(WaitCondition.registered, wasMet.0), (.ready, wasMet.1)] {
                let met = status.isMet(for: wait)
                if met && !before { completion.roles.append((role, wait)) }
                let since: Date? = met ? ((wait == .ready ? roles[role]!.readySince : roles[role]!.registeredSince) ?? time) : nil
                if wait == .ready { roles[role]!.readySince = since } else { roles[role]!.registeredSince = since }
            }
            recorder.changes.append(.roleProgress(status))
        }
        if registeredDelta != 0 {
            registeredNodes += registeredDelta
            if registeredNodes == nodes.count {
                completion.allIdentities = allRegisteredSince == nil
                allRegisteredSince = allRegisteredSince ?? time
            } else {
                allRegisteredSince = nil
            }
            recorder.changes.append(.registrationProgress(registered: registeredNodes, expected: nodes.count))
        }
        return completion
    }

    func providedRoles(of index: Int) -> [String] {
        var seen: Set<String> = []
        return workspaces[nodes[index].workspace].spec.provides.roles.map(\.name).filter { seen.insert($0).inserted }
    }

    mutating func release(_ index: Int, at time: Date, recorder: inout Recorder) {
        nodes[index].releasedAt = time
        nodes[index].answerVersion = 1
        if workspaces[nodes[index].workspace].spec.requires.allIdentities { allIdentityRequirerReleased = true }
        transition(index, to: .configuring, at: time, recorder: &recorder)
        recorder.actions.append(.release(context: id, node: nodes[index].name))
    }

    /// Releases the waiting nodes whose requirements `completion` may have met: only requirers of the roles
    /// that just became complete, so a check-in costs time in proportion to who it affects.
    private mutating func releaseWaiters(_ completion: Completion, at time: Date, recorder: inout Recorder) {
        var candidates: [Int] = []
        for (role, wait) in completion.roles {
            let requirers = roles[role]!.requirers
            for requirer in requirers where nodes[requirer].state == .waiting {
                let spec = workspaces[nodes[requirer].workspace].spec
                if spec.requires.roles.contains(where: { $0.name == role && $0.wait == wait }) { candidates.append(requirer) }
            }
        }
        if completion.allIdentities {
            candidates += allIdentityRequirers.filter { nodes[$0].state == .waiting }
        }
        var seen: Set<Int> = []
        for candidate in candidates where seen.insert(candidate).inserted && nodes[candidate].state == .waiting {
            if isMet(candidate) { release(candidate, at: time, recorder: &recorder) }
        }
    }

    /// Tells nodes that were already released about a provider that registered (or changed identity) after them,
    /// and raises their answer version so that their agents fetch the new answer.
    private mutating func tellReleasedRequirers(about index: Int, recorder: inout Recorder) {
        var requirers: [Int] = []
        var seen: Set<Int> = [index]
        var joinedRoles: [String] = []
        for role in providedRoles(of: index) {
            let released = roles[role]!.requirers.filter { $0 != index && nodes[$0].isReleased }
            if !released.isEmpty { joinedRoles.append(role) }
            for requirer in released where seen.insert(requirer).inserted { requirers.append(requirer) }
        }
        if allIdentityRequirerReleased && workspaces[nodes[index].workspace].spec.provides.sharesIdentity {
            for requirer in allIdentityRequirers where nodes[requirer].isReleased && seen.insert(requirer).inserted {
                requirers.append(requirer)
            }
        }
        guard !requirers.isEmpty else { return }
        requirers.sort()
        for requirer in requirers { nodes[requirer].answerVersion += 1 }
        let names = requirers.map { nodes[$0].name }
        recorder.changes.append(.providerJoined(node: nodes[index].name, roles: joinedRoles, requirers: names))
        recorder.actions.append(.notify(context: id, nodes: names))
    }

    /// Emits a `contextStatus` event when the overall status differs from the last one announced.
    mutating func announceStatus(_ recorder: inout Recorder) {
        let current = status
        guard current != announcedStatus else { return }
        announcedStatus = current
        recorder.changes.append(.contextStatus(current))
    }

    // MARK: Requirements

    /// Whether every requirement of the node is met (without building the detail).
    func isMet(_ index: Int) -> Bool {
        let spec = workspaces[nodes[index].workspace].spec
        if spec.requires.allIdentities && registeredNodes < nodes.count { return false }
        for role in spec.requires.roles {
            guard let record = roles[role.name], record.status.isMet(for: role.wait) else { return false }
        }
        return true
    }

    private func unmetLabels(_ index: Int) -> [String] {
        let spec = workspaces[nodes[index].workspace].spec
        var labels: [String] = []
        if spec.requires.allIdentities && registeredNodes < nodes.count { labels.append("*") }
        var seen: Set<String> = []
        for role in spec.requires.roles where seen.insert(role.name).inserted {
            if !(roles[role.name]?.status.isMet(for: role.wait) ?? false) { labels.append(role.name) }
        }
        return labels
    }

    /// At most this many missing nodes are named per requirement; the counts say how many there are in all.
    public static let missingNamesLimit = 10

    /// The first few nodes missing from each requirement, computed once for many requirers.
    struct MissingIndex {
        var identities: [String]?
        var roles: [String: [String]] = [:]
    }

    func missing(for requirement: RequiredRole?, cache: inout MissingIndex) -> [String] {
        guard let requirement else {
            if let cached = cache.identities { return cached }
            var names: [String] = []
            for node in nodes where !node.isRegistered {
                names.append(node.name)
                if names.count == Self.missingNamesLimit { break }
            }
            cache.identities = names
            return names
        }
        let key = "\(requirement.wait.rawValue):\(requirement.name)"
        if let cached = cache.roles[key] { return cached }
        var names: [String] = []
        for provider in roles[requirement.name]?.providers ?? [] {
            let node = nodes[provider.node]
            if requirement.wait == .ready ? !node.isReady : !node.isRegistered {
                names.append(node.name)
                if names.count == Self.missingNamesLimit { break }
            }
        }
        cache.roles[key] = names
        return names
    }

    /// Each requirement of a node with its progress.
    func requirements(of index: Int, cache: inout MissingIndex) -> [RequirementStatus] {
        let spec = workspaces[nodes[index].workspace].spec
        var result: [RequirementStatus] = []
        if spec.requires.allIdentities {
            result.append(
                RequirementStatus(
                    kind: .allIdentities,
                    wait: .registered,
                    filled: registeredNodes,
                    expected: nodes.count,
                    missing: missing(for: nil, cache: &cache),
                    metSince: allRegisteredSince
                )
            )
        }
        var seen: Set<String> = []
        for role in spec.requires.roles where seen.insert(role.name).inserted {
            let record = roles[role.name] ?? RoleRecord(name: role.name)
            result.append(
                RequirementStatus(
                    kind: .role(role.name),
                    wait: role.wait,
                    filled: record.status.filled(for: role.wait),
                    expected: record.providers.count,
                    missing: missing(for: role, cache: &cache),
                    metSince: role.wait == .ready ? record.readySince : record.registeredSince
                )
            )
        }
        return result
    }

    // MARK: Reads

    /// The context's overall status.
    public var status: ContextStatus {
        let terminal = counts.reduce(0) { $0 + ($1.key.isTerminal ? $1.value : 0) }
        return ContextStatus(
            complete: terminal == nodes.count,
            allOk: (counts[.ok] ?? 0) == nodes.count,
            errorPresent: (counts[.failed] ?? 0) + (counts[.timedOut] ?? 0) > 0,
            registered: registeredNodes,
            expected: nodes.count,
            terminated: terminated,
            counts: counts
        )
    }

    /// The context as the list of contexts shows it.
    public var summary: ContextSummary {
        ContextSummary(id: id, name: name, createdAt: createdAt, status: status, limits: limits.isEmpty ? nil : limits)
    }

    /// Whether the launcher described a machine behind any of its nodes (an EC2 instance).
    public var hasMachines: Bool { nodes.contains { $0.machine != nil } }

    /// How many nodes are running, by state: launched and not finished (neither still pending nor ok, failed,
    /// killed or timed out).
    public var runningCounts: [NodeState: Int] { counts.filter { $0.value > 0 && $0.key != .pending && !$0.key.isTerminal } }

    /// Whether the context may be deleted: it is terminated, or none of its nodes is running.
    public var canBeDeleted: Bool { terminated || runningCounts.isEmpty }

    /// The names of the nodes, in workspace then slot order.
    public var nodeNames: [String] { workspaces.flatMap { $0.nodes.map { nodes[$0].name } } }

    /// One node as operator views show it.
    public func node(_ name: String) throws(EngineError) -> NodeSnapshot {
        nodeSnapshot(try nodeIndex(name))
    }

    /// The generation (retry count) of a node's slot, which a broker ties its tokens to.
    public func generation(of name: String) throws(EngineError) -> Int {
        nodes[try nodeIndex(name)].generation
    }

    func nodeSnapshot(_ index: Int) -> NodeSnapshot {
        var cache = MissingIndex()
        return nodeSnapshot(index, cache: &cache)
    }

    func nodeSnapshot(_ index: Int, cache: inout MissingIndex) -> NodeSnapshot {
        let node = nodes[index]
        return NodeSnapshot(
            name: node.name,
            workspace: workspaces[node.workspace].spec.name,
            slot: node.slot,
            state: node.state,
            since: node.since,
            generation: node.generation,
            identities: node.identities,
            requirements: requirements(of: index, cache: &cache),
            releasedAt: node.releasedAt,
            answerVersion: node.answerVersion,
            timeline: node.timeline,
            exitCode: node.exitCode,
            message: node.message,
            machine: node.machine
        )
    }

    /// The workspace spec of a node (with its data values; for the broker to hand to the node only).
    public func workspaceSpec(ofNode name: String) throws(EngineError) -> WorkspaceSpec {
        workspaces[nodes[try nodeIndex(name)].workspace].spec
    }

    /// The workspace specs in document order.
    public var workspaceSpecs: [WorkspaceSpec] { workspaces.map(\.spec) }

    /// The answer for a released node, or `nil` while it is not released.
    public func answer(for name: String) throws(EngineError) -> NodeAnswer? {
        let index = try nodeIndex(name)
        let node = nodes[index]
        guard node.isReleased else { return nil }
        let spec = workspaces[node.workspace].spec
        var identities: [NodeIdentities] = []
        if spec.requires.allIdentities {
            // What each workspace shares is worked out once per answer, not once per node: this list is as long
            // as the context, for every requirer.
            let sharing = workspaces.map { workspace -> (shares: Bool, all: Bool, wanted: Set<String>) in
                let provides = workspace.spec.provides
                return (
                    provides.sharesIdentity, provides.identities.contains { $0.interface == nil }, Set(provides.identities.compactMap(\.interface))
                )
            }
            identities.reserveCapacity(nodes.count)
            for other in nodes.indices where nodes[other].isRegistered {
                let share = sharing[nodes[other].workspace]
                guard share.shares else { continue }
                let shared = share.all ? nodes[other].identities : nodes[other].identities.filter { share.wanted.contains($0.interface) }
                identities.append(NodeIdentities(node: nodes[other].name, identities: shared))
            }
        }
        var roleAnswers: [RoleAnswer] = []
        var seen: Set<String> = []
        for role in spec.requires.roles where seen.insert(role.name).inserted {
            var providers: [RoleAnswer.Provider] = []
            for provider in roles[role.name]?.providers ?? [] where nodes[provider.node].isRegistered {
                let candidates = nodes[provider.node].identities
                let identity = provider.interface.flatMap { label in candidates.first { $0.interface == label } } ?? candidates[0]
                providers.append(RoleAnswer.Provider(node: nodes[provider.node].name, identity: identity))
            }
            roleAnswers.append(RoleAnswer(role: role.name, hostname: role.hostname, pubkey: role.pubkey, providers: providers))
        }
        return NodeAnswer(version: node.answerVersion, identities: identities, roles: roleAnswers, data: spec.requires.data)
    }

    /// Every role's provider counts, by name.
    public var roleStatuses: [RoleStatus] { roles.values.map(\.status).sorted { $0.role < $1.role } }

    /// A consistent picture of the whole context.
    public func snapshot(sequence: UInt64) -> ContextSnapshot {
        var cache = MissingIndex()
        return ContextSnapshot(
            id: id,
            name: name,
            createdAt: createdAt,
            sequence: sequence,
            status: status,
            workspaces: workspaces.map { record in
                let spec = record.spec
                return WorkspaceSnapshot(
                    name: spec.name,
                    image: spec.image,
                    nics: spec.nics,
                    roles: spec.provides.roles.map(\.name),
                    sharesIdentity: spec.provides.sharesIdentity,
                    requiredRoles: spec.requires.roles,
                    requiresAllIdentities: spec.requires.allIdentities,
                    dataNames: spec.requires.data.map(\.name),
                    nodes: record.nodes.map { nodes[$0].name }
                )
            },
            roles: roleStatuses,
            nodes: workspaces.flatMap { $0.nodes.map { nodeSnapshot($0, cache: &cache) } },
            limits: limits.isEmpty ? nil : limits
        )
    }
}
