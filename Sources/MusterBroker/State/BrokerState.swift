import Foundation
import HTTPTypes
import Logging
import MusterCore

/// The broker's state: the context engine, the tokens, who is waiting, who is following. One actor, so every
/// change happens in one order.
///
/// Each change follows the same path (``perform(_:mint:)``): apply the commands to the engine, write the
/// commands, events and token hashes to the store in one transaction, and only then publish the events, wake
/// long-polls and call the launcher. A request is answered after its change is on disk; a refused request
/// changes nothing.
public actor BrokerState: LaunchReporter {
    let store: any BrokerStore
    let logger: Logger
    let clock: @Sendable () -> Date
    var launcher: (any NodeLauncher)?
    /// The URL agents use to reach this broker (handed to the launcher).
    var brokerURL: String
    /// This broker's name among replicas sharing its store (`/v1/healthz`).
    public private(set) var replicaName = ""

    var engine = ContextEngine()
    /// The operator token's hash and every node's current token hash, indexed for O(1) lookup; the
    /// authentication middleware reads it without entering the actor.
    nonisolated let tokens = TokenBook()
    /// Tokens minted for slots that have not been launched yet; handed to the launcher, never stored.
    var unlaunchedTokens: [NodeKey: (generation: Int, token: String)] = [:]
    /// The stored output of each node's current generation: which lines, how many bytes.
    var outputs: [NodeKey: StoredOutput] = [:]
    /// Timeouts, caps and quotas.
    let limits: BrokerLimits
    /// The key of the masked data digest (``DataDigest``), made at first start and kept in the store.
    let dataDigest: DataDigest
    /// What the caps and quotas dropped or refused, for `/metrics`.
    var counters = BrokerCounters()

    /// Held long-polls, by node: each is woken when its node has news.
    var answerWaiters: [NodeKey: [AnswerWake]] = [:]
    /// When each held long-poll ends, and the one timer for the earliest (see ``LongPollDeadlines``).
    var answerDeadlines = LongPollDeadlines<AnswerWake>()
    var answerTimer: Task<Void, Never>?
    var answerTimerDeadline: ContinuousClock.Instant?
    var eventSubscribers: [UUID: StreamSubscriber] = [:]
    var outputSubscribers: [NodeKey: [UUID: StreamSubscriber]] = [:]
    /// Open streams per token.
    var streamsByOwner: [TokenOwner: Int] = [:]
    /// The one timer that sends every stream its heartbeat.
    var heartbeatTask: Task<Void, Never>?
    var isShuttingDown = false
    /// The timer for the earliest time limit of any context (see BrokerState+Deadlines), and when it fires.
    var deadlineTimer: Task<Void, Never>?
    var scheduledDeadline: Date?

    /// Whether a change is between its first step and its publication (see ``beginChange()``), and the changes
    /// waiting for it, in arrival order.
    var changeInFlight = false
    var changesWaiting: [CheckedContinuation<Void, Never>] = []
    /// One-command changes waiting to be committed together (see BrokerState+GroupCommit), and whether a task is
    /// committing groups of them.
    var groupForming: [GroupMember] = []
    var groupCommitterActive = false
    /// While a group is staged: the output each of its members leaves a node with, not committed yet.
    var groupOutputs: [NodeKey: StoredOutput] = [:]
    /// Commands stored since the last snapshot of the engine (see ``BrokerLimits/snapshotInterval``).
    var commandsSinceSnapshot = 0
    /// The task following other brokers that share the store (see BrokerState+Replicas), and how long after its
    /// commit the last change followed was applied here, in seconds.
    var followTask: Task<Void, Never>?
    var replicationLag: Double = 0

    /// Opens the broker's state from a store, replaying every stored command.
    public init(
        store: any BrokerStore,
        brokerURL: String = "",
        launcher: (any NodeLauncher)? = nil,
        limits: BrokerLimits = BrokerLimits(),
        logger: Logger,
        clock: @escaping @Sendable () -> Date = BrokerState.millisecondClock
    ) async throws(StoreError) {
        self.store = store
        self.brokerURL = brokerURL
        self.launcher = launcher
        self.limits = limits
        self.logger = logger
        self.clock = clock
        var stored = try await store.load()
        if let key = stored.digestKey {
            self.dataDigest = DataDigest(key: key)
        } else {
            // First start: the digest key is made once and kept, so a value's digest stays the same across restarts.
            let digest = DataDigest.random()
            var batch = StoreBatch()
            batch.digestKey = digest.keyBytes
            if store.isShared {
                // Replicas starting together on an empty shared store keep the first key written; what the others
                // committed meanwhile is read again with it (a commit refused for building on it is tried again).
                var attempt = 1
                while true {
                    do {
                        try await store.commit(batch)
                        break
                    } catch  where attempt < 3 {
                        attempt += 1
                    }
                }
                stored = try await store.load()
            } else {
                try await store.commit(batch)
            }
            self.dataDigest = DataDigest(key: stored.digestKey ?? digest.keyBytes)
        }
        let engine = try Self.rebuild(from: stored)
        commandsSinceSnapshot = stored.commands.count
        if engine.lastSequence != stored.lastSequence {
            logger.warning(
                "replayed state does not end at the stored event sequence",
                metadata: ["replayed": "\(engine.lastSequence)", "stored": "\(stored.lastSequence)"]
            )
        }
        self.engine = engine
        tokens.operatorHash = stored.operatorTokenHash
        tokens.replaceNodeTokens(with: stored.nodeTokens)
        self.outputs = Self.storedOutputs(stored.outputCounts, of: engine)
        if !stored.commands.isEmpty || stored.snapshot != nil {
            logger.info(
                "state restored",
                metadata: [
                    "contexts": "\(engine.contexts.count)", "events": "\(engine.lastSequence)", "snapshot": "\(stored.snapshot != nil)",
                    "replayed-commands": "\(stored.commands.count)",
                ]
            )
        }
    }

    /// What the store holds of each node's current output, from the store's counts.
    static func storedOutputs(_ counts: [OutputCount], of engine: ContextEngine) -> [NodeKey: StoredOutput] {
        var outputs: [NodeKey: StoredOutput] = [:]
        for count in counts where (try? engine.contexts[count.context]?.generation(of: count.node)) == count.generation {
            outputs[NodeKey(context: count.context, node: count.node)] = StoredOutput(count)
        }
        return outputs
    }

    /// The engine a stored state stands for: its snapshot, if any, then the commands after it.
    static func rebuild(from stored: StoredState) throws(StoreError) -> ContextEngine {
        var engine = ContextEngine()
        if let snapshot = stored.snapshot {
            do {
                engine = try JSONDecoder().decode(ContextEngine.self, from: snapshot.body)
            } catch {
                throw StoreError("the stored snapshot of the state cannot be read (written by another version of muster?): \(error)")
            }
        }
        for command in stored.commands {
            do {
                _ = try engine.apply(command.command, at: command.time)
            } catch {
                // A stored command was accepted once; refusing it now means the engine changed incompatibly.
                throw StoreError("replaying the stored state failed at \(command.command.context): \(error)")
            }
        }
        return engine
    }

    /// Sets the launcher, the URL agents use and this broker's name among replicas (known only once the server
    /// listens).
    public func attach(launcher: (any NodeLauncher)?, brokerURL: String, replicaName: String? = nil) {
        self.launcher = launcher
        self.brokerURL = brokerURL
        if let replicaName { self.replicaName = replicaName }
    }

    /// The current time rounded to the millisecond, the precision of the wire format, so that a time read
    /// back from the store or a response is exactly the time the engine recorded.
    public static let millisecondClock: @Sendable () -> Date = {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1_000).rounded() / 1_000)
    }

    // MARK: The one path for changes

    /// What a change produced, for the caller to answer with.
    struct Performed {
        var outcome = EngineOutcome()
        /// Tokens minted for launches or new slots, by node.
        var credentials: [NodeCredential] = []
    }

    /// Which new slots get a token at once (their creation) besides those being launched.
    enum Minting {
        case launchesOnly
        case newSlots(ContextID)
    }

    /// Applies commands, commits them with their events and any tokens they need, then publishes.
    ///
    /// Every command is applied before anything is written; if one is refused, the ones before it are rolled
    /// back by restoring the engine from the store. Callers pass several commands only where none can be
    /// refused once the first is accepted (for example create-then-launch).
    ///
    /// A change of one command (what agents and launchers send) is committed together with the others that arrive
    /// while a commit is in flight: one transaction for all of them (see BrokerState+GroupCommit); each is answered,
    /// and its events published in order, only once that transaction is durable.
    func perform(_ commands: [EngineCommand], mint: Minting = .launchesOnly, deleting: ContextID? = nil) async throws(BrokerError) -> Performed {
        if commands.count == 1, deleting == nil {
            return try await performInGroup(.command(commands[0], mint: mint)).performed
        }
        return try await changing { () async throws(BrokerError) -> Performed in
            try await performChange(commands, mint: mint, deleting: deleting)
        }
    }

    /// ``perform(_:mint:deleting:)`` once the change has begun.
    func performChange(_ commands: [EngineCommand], mint: Minting, deleting: ContextID?) async throws(BrokerError) -> Performed {
        let change = try await stageChange(commands, mint: mint, deleting: deleting)
        try await commit([change], deleting: deleting)
        return change.performed
    }

    /// A change applied to the engine, with what it needs written, waiting for its commit.
    struct StagedChange {
        var commands: [EngineCommand]
        var time: Date
        var performed = Performed()
        var batch: StoreBatch
        /// Tokens replaced by this change, to put back if it cannot be saved.
        var replacedTokens: [NodeKey: NodeTokenRecord?] = [:]
        var launches: [LaunchRequest] = []
        /// Set when a later command was refused after earlier ones were applied and kept (see `restoring`).
        var refusal: BrokerError?
    }

    /// Applies a change's commands to the engine and mints the tokens it needs; nothing is written yet.
    ///
    /// `staged` holds rows staged with the change (a report's output lines), committed with it; the first
    /// `skippingRefused` commands may be refused by the engine without failing the change (a report's script
    /// reports: a refused one changes nothing and is left out). A command refused after others were applied undoes
    /// them by restoring the engine from the store, unless `restoring` is false (a change staged in a group, whose
    /// earlier members a restore would undo too): then what was applied is kept and the refusal is recorded in the
    /// change, to answer it with once it is committed.
    func stageChange(
        _ commands: [EngineCommand],
        mint: Minting,
        deleting: ContextID?,
        with staged: StoreBatch = StoreBatch(),
        skippingRefused: Int = 0,
        restoring: Bool = true
    ) async throws(BrokerError) -> StagedChange {
        let now = clock()
        var change = StagedChange(commands: commands, time: now, batch: staged)
        for (offset, command) in commands.enumerated() {
            do {
                let outcome = try engine.apply(command, at: now)
                change.performed.outcome.events += outcome.events
                change.performed.outcome.actions += outcome.actions
                change.batch.commands.append(StoredCommand(command: command, time: now))
            } catch {
                if offset < skippingRefused { continue }
                if change.batch.commands.isEmpty { throw BrokerError(error) }
                if restoring {
                    await restoreFromStore()
                    throw BrokerError(error)
                }
                // Restoring would also undo the changes staged before this one in the same group: what was applied
                // is kept and committed, and the change is answered with the refusal.
                change.refusal = BrokerError(error)
                break
            }
        }
        change.batch.events = change.performed.outcome.events
        if case .newSlots(let context) = mint {
            for event in change.performed.outcome.events where event.context == context {
                switch event.change {
                case .contextCreated(_, _, let nodes):
                    for node in nodes {
                        change.performed.credentials.append(
                            mintToken(context: context, node: node, generation: 0, into: &change.batch, replacing: &change.replacedTokens)
                        )
                    }
                case .nodeAdded(let node, _):
                    change.performed.credentials.append(
                        mintToken(context: context, node: node, generation: 0, into: &change.batch, replacing: &change.replacedTokens)
                    )
                default:
                    break
                }
            }
        }
        for action in change.performed.outcome.actions {
            guard case .launch(let context, let node, let generation) = action else { continue }
            let key = NodeKey(context: context, node: node)
            if generation > 0 {
                // A retried node starts a new output history: followers of the old one start again from 0.
                outputs[key] = nil
                groupOutputs[key] = nil
                endOutputStreams(of: key)
            }
            // A new generation needs a new token. A launcher needs the token itself, which is kept only until
            // launch: after a restart it gets a fresh one. Without a launcher (nodes started elsewhere, e.g. from
            // EC2 userdata) the token handed out at creation stays valid.
            var token = unlaunchedTokens[key].flatMap { $0.generation == generation ? $0.token : nil }
            if tokens.record(for: key)?.generation != generation || (launcher != nil && token == nil) {
                let credential = mintToken(
                    context: context,
                    node: node,
                    generation: generation,
                    into: &change.batch,
                    replacing: &change.replacedTokens
                )
                change.performed.credentials.append(credential)
                token = credential.token
            }
            guard launcher != nil, let token else { continue }
            unlaunchedTokens[key] = nil
            if let request = launchRequest(context: context, node: node, generation: generation, token: token) { change.launches.append(request) }
        }
        // A slot created and launched by the same change was minted twice: the launch's token is the one that counts.
        change.batch.nodeTokens = change.batch.nodeTokens.keepingLast { NodeKey(context: $0.context, node: $0.node) }
        change.performed.credentials = change.performed.credentials.keepingLast(by: \.node)
        if let deleting {
            change.batch.deletedContexts = [deleting]
            // Of a deleted context only its last event is kept (followers see the rest live).
            change.batch.events.removeAll { event in
                guard event.context == deleting else { return false }
                if case .contextDeleted = event.change { return false }
                return true
            }
        }
        return change
    }

    /// Commits staged changes in one transaction (with a snapshot when one is due), then publishes each in order.
    /// If the commit fails, every one of them is undone: the engine is restored from the store.
    func commit(_ changes: [StagedChange], deleting: ContextID?) async throws(BrokerError) {
        var batch = changes.count == 1 ? changes[0].batch : StoreBatch(merging: changes.map(\.batch))
        if deleting != nil || commandsSinceSnapshot + batch.commands.count >= limits.snapshotInterval(nodes: engine.nodeCount) {
            do {
                batch.snapshot = EngineSnapshot(body: try JSONEncoder().encode(engine), lastSequence: engine.lastSequence)
            } catch {
                logger.error("cannot encode a snapshot of the state", metadata: ["error": "\(error)"])
                if deleting != nil {
                    await restoreFromStore()
                    throw BrokerError(.internalServerError, code: "internal", "cannot write a snapshot of the state")
                }
            }
        }
        do {
            try await store.commit(batch)
        } catch {
            logger.error("commit failed; restoring state from the store", metadata: ["error": "\(error.message)"])
            for change in changes.reversed() {
                for (key, record) in change.replacedTokens { tokens.restore(key, to: record) }
            }
            await restoreFromStore()
            throw BrokerError(error)
        }
        commandsSinceSnapshot = batch.snapshot == nil ? commandsSinceSnapshot + batch.commands.count : 0
        if let deleting { forget(deleting) }
        // The events of every change committed together reach each follower as one frame, in one write: with 100
        // followers of a 10,000-node boot, a write per change and follower was most of the broker's work.
        publishEvents(changes.flatMap(\.performed.outcome.events))
        for change in changes {
            publish(change.performed.outcome, launches: change.launches, launcherActs: true, eventsPublished: true)
            noteDeadlines(commands: change.commands, actions: change.performed.outcome.actions, at: change.time)
        }
    }

    /// Mints a token for a slot generation: records its hash (in memory and in the batch), keeps the token for
    /// an unlaunched slot, and returns it once.
    private func mintToken(
        context: ContextID,
        node: String,
        generation: Int,
        into batch: inout StoreBatch,
        replacing replaced: inout [NodeKey: NodeTokenRecord?]
    ) -> NodeCredential {
        let token = Token.mint(prefix: Token.nodePrefix)
        let record = NodeTokenRecord(context: context, node: node, generation: generation, hash: Token.hash(token))
        let key = NodeKey(context: context, node: node)
        if replaced.index(forKey: key) == nil { replaced[key] = .some(tokens.record(for: key)) }
        tokens.set(record)
        unlaunchedTokens[key] = (generation, token)
        batch.nodeTokens.append(record)
        return NodeCredential(node: node, generation: generation, token: token)
    }

    // MARK: External launchers

    /// An external launcher (one outside the broker, such as `muster up --broker URL`) takes on starting a node
    /// that is `launching`: it gets a fresh token for the node's current generation (any earlier token of that
    /// generation stops working), committed before it is handed out.
    func claimLaunch(_ key: NodeKey) async throws(BrokerError) -> ActionResult {
        try await changing { () async throws(BrokerError) -> ActionResult in try await claimLaunchChange(key) }
    }

    private func claimLaunchChange(_ key: NodeKey) async throws(BrokerError) -> ActionResult {
        guard launcher == nil else {
            throw BrokerError(.conflict, code: "conflict", "this broker launches its nodes itself; there is nothing to claim")
        }
        let snapshot = try node(key)
        guard snapshot.state == .launching else {
            throw BrokerError(
                .conflict,
                code: "conflict",
                "node '\(key.node)' is \(snapshot.state.rawValue); a launcher can claim only a node that is launching"
            )
        }
        var replaced: [NodeKey: NodeTokenRecord?] = [:]
        var batch = StoreBatch()
        let credential = mintToken(context: key.context, node: key.node, generation: snapshot.generation, into: &batch, replacing: &replaced)
        unlaunchedTokens[key] = nil
        do {
            try await store.commit(batch)
        } catch {
            for (key, record) in replaced { tokens.restore(key, to: record) }
            throw BrokerError(error)
        }
        logger.info("launch claimed", metadata: ["node": "\(key)", "generation": "\(snapshot.generation)"])
        return ActionResult(nodes: [snapshot], credentials: [credential])
    }

    /// An external launcher's word on a launch it made: taken as the broker's own launcher's would be, for the
    /// node's current generation only.
    func launchReport(_ key: NodeKey, _ report: LaunchReport) async throws(BrokerError) {
        _ = try node(key)
        switch report.event {
        case .booted:
            await booted(context: key.context, node: key.node, generation: report.generation)
        case .failed:
            await launchFailed(context: key.context, node: key.node, generation: report.generation, message: report.message ?? "the launch failed")
        case .machine:
            guard let details = report.machine else { throw BrokerError.badRequest("a machine report needs its machine details") }
            await machine(context: key.context, node: key.node, generation: report.generation, details: details)
        case .exited:
            await agentExited(
                context: key.context,
                node: key.node,
                generation: report.generation,
                status: Int32(clamping: report.status ?? 1),
                message: report.message ?? "the agent exited"
            )
        }
    }

    private func launchRequest(context: ContextID, node: String, generation: Int, token: String) -> LaunchRequest? {
        guard let state = engine.contexts[context], let spec = try? state.workspaceSpec(ofNode: node) else { return nil }
        return LaunchRequest(
            context: context,
            contextName: state.name,
            node: node,
            workspace: spec.name,
            image: spec.image,
            nics: spec.nics,
            generation: generation,
            token: token,
            brokerURL: brokerURL
        )
    }

    /// Rebuilds the engine from the store after a failed write, so memory never runs ahead of the disk.
    func restoreFromStore() async {
        do {
            let stored = try await store.load()
            self.engine = try Self.rebuild(from: stored)
            commandsSinceSnapshot = stored.commands.count
        } catch {
            logger.critical("cannot reload the state after a failed write; the broker must be restarted", metadata: ["error": "\(error)"])
            isShuttingDown = true
        }
    }

    /// Sends committed events to followers, wakes long-polls, and hands launches and stops to the launcher (only
    /// for this broker's own changes: a replica that follows another's change leaves the launching to it).
    /// `eventsPublished` says the caller already sent the events (with those of the changes committed alongside).
    func publish(_ outcome: EngineOutcome, launches: [LaunchRequest], launcherActs: Bool, eventsPublished: Bool = false) {
        if !eventsPublished { publishEvents(outcome.events) }
        for event in outcome.events {
            if case .nodeRemoved(let node, _) = event.change { forget(NodeKey(context: event.context, node: node)) }
        }
        for action in outcome.actions {
            switch action {
            case .release(let context, let node):
                wakeAnswerWaiters(NodeKey(context: context, node: node))
            case .notify(let context, let nodes):
                for node in nodes { wakeAnswerWaiters(NodeKey(context: context, node: node)) }
            case .stop(let context, let node):
                wakeAnswerWaiters(NodeKey(context: context, node: node))
                if launcherActs, let launcher {
                    Task { await launcher.stop(context: context, node: node) }
                }
            case .launch:
                break
            }
        }
        if let launcher {
            for request in launches {
                Task { await launcher.launch(request, reporter: self) }
            }
        }
    }

    // MARK: Launch reports

    public func booted(context: ContextID, node: String, generation: Int) async {
        guard isCurrent(context: context, node: node, generation: generation) else { return }
        do {
            _ = try await perform([.booted(context: context, node: node)])
        } catch {
            logger.debug("ignored a boot report", metadata: ["node": "\(context)/\(node)", "reason": "\(error)"])
        }
    }

    public func launchFailed(context: ContextID, node: String, generation: Int, message: String) async {
        guard isCurrent(context: context, node: node, generation: generation) else { return }
        logger.warning("launch failed", metadata: ["node": "\(context)/\(node)", "reason": "\(message)"])
        do {
            _ = try await perform([.launchFailed(context: context, node: node, message: message)])
        } catch {
            logger.debug("ignored a launch failure report", metadata: ["node": "\(context)/\(node)", "reason": "\(error)"])
        }
    }

    public func agentExited(context: ContextID, node: String, generation: Int, status: Int32, message: String) async {
        guard isCurrent(context: context, node: node, generation: generation),
            let state = try? engine.contexts[context]?.node(node), !state.state.isTerminal
        else { return }
        logger.warning("agent exited", metadata: ["node": "\(context)/\(node)", "status": "\(status)"])
        let command: EngineCommand =
            [.pending, .launching, .booted].contains(state.state)
            ? .launchFailed(context: context, node: node, message: message)
            : .report(context: context, node: node, result: .error(code: Int(status == 0 ? 1 : status), message: message))
        do {
            _ = try await perform([command])
        } catch {
            logger.debug("ignored an agent exit", metadata: ["node": "\(context)/\(node)", "reason": "\(error)"])
        }
    }

    public func machine(context: ContextID, node: String, generation: Int, details: MachineDetails) async {
        guard isCurrent(context: context, node: node, generation: generation) else { return }
        do {
            _ = try await perform([.machine(context: context, node: node, details: details)])
        } catch {
            logger.debug("ignored a machine report", metadata: ["node": "\(context)/\(node)", "reason": "\(error)"])
        }
    }

    private func isCurrent(context: ContextID, node: String, generation: Int) -> Bool {
        (try? engine.contexts[context]?.generation(of: node)) == generation
    }

    // MARK: Shutdown

    /// Closes every stream and answers every long-poll, so that a graceful shutdown can finish its requests.
    public func shutdown() {
        isShuttingDown = true
        followTask?.cancel()
        followTask = nil
        deadlineTimer?.cancel()
        deadlineTimer = nil
        answerTimer?.cancel()
        answerTimer = nil
        answerTimerDeadline = nil
        endAllStreams()
        for key in Array(answerWaiters.keys) { wakeAnswerWaiters(key) }
    }

    /// Whether the broker stopped accepting changes.
    public var stopping: Bool { isShuttingDown }

    /// Whether this broker starts nodes itself (it has a launcher).
    public var launchesNodes: Bool { launcher != nil }
}
