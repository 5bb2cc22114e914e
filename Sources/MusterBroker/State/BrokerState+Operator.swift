import Foundation
import HTTPTypes
import Logging
import MusterCore

/// What operators do: create and list contexts, read them, and act on nodes.
extension BrokerState {
    // MARK: Tokens

    /// Sets the operator token's hash (first start, or a token given with `--token-file`/`MUSTER_TOKEN`).
    public func setOperatorToken(_ token: String) async throws(StoreError) {
        await beginChange()
        defer { endChange() }
        await apply(try await store.beginWrite())
        let hash = Token.hash(token)
        guard tokens.operatorHash.map({ !Token.constantTimeEqual($0, hash) }) ?? true else {
            await store.endWrite()
            return
        }
        var batch = StoreBatch()
        batch.operatorTokenHash = hash
        try await store.commit(batch)
        tokens.operatorHash = hash
    }

    /// Whether an operator token has been set.
    public var hasOperatorToken: Bool { tokens.operatorHash != nil }

    // MARK: Contexts

    /// Checks a cluster document: the document, or a 422 with its diagnostics (at most
    /// ``MusterCore/ClusterDocumentParser/diagnosticLimit`` of each severity, then how many more).
    ///
    /// Not isolated to the actor: route handlers parse before they enter it, so a large document never holds up
    /// other requests.
    nonisolated static func checkDocument(_ bytes: [UInt8]) throws(BrokerError) -> ClusterDocumentCheck {
        let check = ClusterDocumentParser.parse(bytes)
        guard check.document != nil else {
            let errors = check.diagnostics.filter { $0.severity == .error }
            throw BrokerError(
                .unprocessableContent,
                code: "invalid-document",
                "the cluster document is invalid: \(errors.count) error\(errors.count == 1 ? "" : "s"), first at \(errors.first.map { "\($0.location): \($0.message)" } ?? "?")",
                diagnostics: check.diagnostics
            )
        }
        return check
    }

    /// Creates a context from a checked cluster document (see ``checkDocument(_:)``); optionally launches every
    /// node at once.
    func createContext(
        name: String?,
        check: ClusterDocumentCheck,
        launch: Bool,
        limits contextLimits: ContextLimitRequest = ContextLimitRequest()
    ) async throws(BrokerError) -> CreatedContext {
        guard let document = check.document else {
            throw BrokerError(.unprocessableContent, code: "invalid-document", "the cluster document is invalid")
        }
        let contextName = Self.cleanName(name) ?? "cluster"
        let id = try newContextID(for: contextName)
        var commands: [EngineCommand] = [.createContext(id: id, name: contextName, document: document)]
        if !contextLimits.isEmpty { commands.append(.setLimits(context: id, limits: contextLimits.limits(from: clock()))) }
        if launch {
            for workspace in document.workspaces {
                for slot in 0..<workspace.quantity { commands.append(.launch(context: id, node: workspace.nodeName(slot))) }
            }
        }
        let performed = try await perform(commands, mint: .newSlots(id))
        logger.info("context created", metadata: ["context": "\(id)", "nodes": "\(document.nodeCount)", "launch": "\(launch)"])
        return CreatedContext(
            context: try snapshot(of: id),
            credentials: performed.credentials.sorted { $0.node < $1.node },
            warnings: check.diagnostics.filter { $0.severity != .error }
        )
    }

    private static func cleanName(_ name: String?) -> String? {
        guard let name else { return nil }
        let cleaned = String(
            name.unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
        )
        return cleaned.isEmpty ? nil : String(cleaned.prefix(40))
    }

    /// A short, readable id: the name's slug and random hexadecimal digits (`cpe-3f9a`), longer once a name's
    /// short ids are used up (see ``MusterCore/ContextID/make(name:isTaken:using:)``).
    private func newContextID(for name: String) throws(BrokerError) -> ContextID {
        var random = SystemRandomNumberGenerator()
        guard let id = ContextID.make(name: name, isTaken: { engine.contexts[$0] != nil }, using: &random) else {
            throw BrokerError.unavailable("no free context id for '\(name)'; try another name")
        }
        return id
    }

    /// Every context, oldest first.
    func listContexts() -> ContextList {
        ContextList(
            contexts: engine.contextOrder.compactMap { engine.contexts[$0].map(summary) }
        )
    }

    /// A context's summary, saying who launches its nodes.
    func summary(of state: ContextState) -> ContextSummary {
        var summary = state.summary
        summary.launcher = launcher?.name ?? (state.hasMachines ? "ec2 (ext)" : "external")
        return summary
    }

    func snapshot(of id: ContextID) throws(BrokerError) -> ContextSnapshot {
        do {
            return try engine.snapshot(of: id)
        } catch {
            throw BrokerError(error)
        }
    }

    /// One context with its data values masked (name, size, short hash).
    func detail(of id: ContextID) throws(BrokerError) -> ContextDetail {
        let snapshot = try snapshot(of: id)
        var data: [String: [MaskedData]] = [:]
        for spec in engine.contexts[id]?.workspaceSpecs ?? [] where !spec.requires.data.isEmpty {
            data[spec.name] = spec.requires.data.map { MaskedData(name: $0.name, size: $0.value.utf8.count, sha256: dataDigest.digest($0.value)) }
        }
        return ContextDetail(context: snapshot, data: data)
    }

    /// Every context (or one) at the current event sequence number.
    func brokerSnapshot(context: ContextID?) throws(BrokerError) -> BrokerSnapshot {
        if let context {
            return BrokerSnapshot(sequence: engine.lastSequence, contexts: [try snapshot(of: context)])
        }
        return BrokerSnapshot(sequence: engine.lastSequence, contexts: engine.contextOrder.compactMap { try? engine.snapshot(of: $0) })
    }

    func node(_ key: NodeKey) throws(BrokerError) -> NodeSnapshot {
        do {
            return try engine.context(key.context).node(key.node)
        } catch {
            throw BrokerError(error)
        }
    }

    private func nodes(_ id: ContextID, _ names: [String]) throws(BrokerError) -> [NodeSnapshot] {
        var result: [NodeSnapshot] = []
        for name in names { result.append(try node(NodeKey(context: id, node: name))) }
        return result
    }

    // MARK: Actions

    /// Launches every pending node of a context.
    func launchPending(_ id: ContextID) async throws(BrokerError) -> ActionResult {
        let snapshot = try snapshot(of: id)
        let pending = snapshot.nodes.filter { $0.state == .pending }.map(\.name)
        guard !pending.isEmpty else { return ActionResult(nodes: []) }
        let performed = try await perform(pending.map { .launch(context: id, node: $0) })
        return ActionResult(nodes: try nodes(id, pending), credentials: performed.credentials)
    }

    /// Adds nodes to a workspace, launching them unless told not to.
    func addNodes(_ id: ContextID, workspace: String, count: Int, launch: Bool) async throws(BrokerError) -> ActionResult {
        guard (1...1_000).contains(count) else {
            throw BrokerError(.unprocessableContent, code: "invalid-input", "count must be between 1 and 1000, not \(count)")
        }
        let before = Set(try snapshot(of: id).nodes.map(\.name))
        let added = try await perform([.addNodes(context: id, workspace: workspace, count: count)], mint: .newSlots(id))
        let names = try snapshot(of: id).nodes.map(\.name).filter { !before.contains($0) }
        var credentials = added.credentials
        if launch {
            let launched = try await perform(names.map { .launch(context: id, node: $0) })
            for credential in launched.credentials {
                credentials.removeAll { $0.node == credential.node }
                credentials.append(credential)
            }
        }
        return ActionResult(nodes: try nodes(id, names), credentials: credentials)
    }

    /// Removes slots with nothing running (pending, failed, killed, timed out) from their workspaces; what their
    /// requirers wait for shrinks with them. Returns the nodes as they were just before.
    func removeNodes(_ id: ContextID, nodes names: [String]) async throws(BrokerError) -> ActionResult {
        guard (1...1_000).contains(names.count) else {
            throw BrokerError(.unprocessableContent, code: "invalid-input", "between 1 and 1000 nodes can be removed at once, not \(names.count)")
        }
        let before = try nodes(id, names)
        _ = try await perform([.removeNodes(context: id, nodes: names)])
        logger.info("nodes removed", metadata: ["context": "\(id)", "nodes": "\(names.joined(separator: ","))"])
        return ActionResult(nodes: before)
    }

    /// Retries a failed, killed or timed-out node in its slot (a new agent, a new token).
    func retry(_ key: NodeKey) async throws(BrokerError) -> ActionResult {
        let performed = try await perform([.retry(context: key.context, node: key.node)])
        logger.info("node retried", metadata: ["node": "\(key)"])
        return ActionResult(nodes: [try node(key)], credentials: performed.credentials)
    }

    /// Kills a node (its whole process group, on the local launcher).
    func kill(_ key: NodeKey) async throws(BrokerError) -> ActionResult {
        _ = try await perform([.kill(context: key.context, node: key.node)])
        logger.info("node killed", metadata: ["node": "\(key)"])
        return ActionResult(nodes: [try node(key)])
    }

    /// Terminates a context: every unfinished node is killed, and the context accepts no more changes.
    func terminate(_ id: ContextID) async throws(BrokerError) -> ContextSummary {
        _ = try await perform([.terminate(context: id)])
        logger.info("context terminated", metadata: ["context": "\(id)"])
        return summary(of: engine.contexts[id]!)
    }

    /// One page of a node's output (current generation), at most `limit` lines and about `maxBytes` of text.
    func outputPage(_ key: NodeKey, after: Int, limit: Int, maxBytes: Int) async throws(BrokerError) -> OutputPage {
        let node = try node(key)
        let total = outputs[key]?.next ?? 0
        let lines: [OutputLine]
        do {
            lines = try await store.output(
                context: key.context,
                node: key.node,
                generation: node.generation,
                from: after,
                limit: limit,
                maxBytes: maxBytes
            )
        } catch {
            throw BrokerError(error)
        }
        return OutputPage(lines: lines, next: lines.last.map { $0.index + 1 } ?? max(after, 0), total: total)
    }

    /// Counts for metrics: nodes by state across contexts, and open streams.
    func metricsSample() -> MetricsSample {
        var nodes: [NodeState: Int] = [:]
        for state in engine.contexts.values {
            for (key, value) in state.status.counts { nodes[key, default: 0] += value }
        }
        let streams = eventSubscribers.count + outputSubscribers.values.reduce(0) { $0 + $1.count }
        return MetricsSample(
            nodes: nodes,
            streams: streams,
            waiters: answerWaiters.values.reduce(0) { $0 + $1.count },
            counters: counters,
            replicationLag: store.isShared ? replicationLag : nil
        )
    }

    /// What `/metrics` samples from the state.
    struct MetricsSample: Sendable {
        var nodes: [NodeState: Int]
        var streams: Int
        var waiters: Int
        var counters: BrokerCounters
        /// Seconds between another broker's commit and its application here, for the last change followed; `nil`
        /// when the store has one writer.
        var replicationLag: Double?
    }
}
