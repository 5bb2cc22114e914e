import Foundation
import MusterCore

/// The operator side of the broker API: what the console and the `muster` CLI do, with the operator token.
///
/// Every call throws a ``BrokerClientError`` when it fails (or `CancellationError` when its task is cancelled).
/// Reads are retried on transient failures; actions (create, launch, add nodes, retry, kill, terminate) only when
/// the request provably never reached the broker, so that none is ever applied twice (see ``BrokerConnection``).
///
/// ```swift
/// let client = connection.operatorClient(token: operatorToken)
/// let created = try await client.createContext(document: xml, name: "torque", launch: true)
/// for try await element in client.events(context: created.context.id, after: created.context.sequence) {
///     switch element {
///     case .event(let event): print(event.change.kind)
///     case .connection(let state): print(state)
///     }
/// }
/// ```
public struct OperatorClient: Sendable {
    /// The connection the client speaks through.
    public let connection: BrokerConnection
    let token: String

    /// Creates a client that speaks through `connection` with the operator `token`.
    public init(connection: BrokerConnection, token: String) {
        self.connection = connection
        self.token = token
    }

    // MARK: Contexts

    /// `GET /v1/contexts`: every context, oldest first.
    public func contexts() async throws -> [ContextSummary] {
        try await read(BrokerRoutes.contexts, as: ContextList.self).contexts
    }

    /// `POST /v1/contexts`: creates a context from a cluster document.
    ///
    /// - Parameters:
    ///   - document: The cluster document's XML, as read from its file.
    ///   - name: The context's human name; the broker picks one when `nil`.
    ///   - launch: Whether to launch every node at once.
    ///   - limits: Its time limits (boot timeout, lease, deadline), enforced by the broker.
    /// - Returns: The new context and one token per node (the only time the broker shows them), plus warnings.
    /// - Throws: ``BrokerClientError`` with code ``BrokerClientError/Code/invalidDocument`` and the document's
    ///   ``BrokerClientError/diagnostics`` when the broker rejects it (422).
    public func createContext(
        document: Data,
        name: String? = nil,
        launch: Bool = false,
        limits: ContextLimitRequest = ContextLimitRequest()
    ) async throws -> CreatedContext {
        var query: [(name: String, value: String)] = []
        if let name { query.append(("name", name)) }
        if launch { query.append(("launch", "true")) }
        if let seconds = limits.bootTimeoutSeconds { query.append(("bootTimeout", String(seconds))) }
        if let seconds = limits.leaseSeconds { query.append(("lease", String(seconds))) }
        if let seconds = limits.deadlineSeconds { query.append(("deadline", String(seconds))) }
        let call = BrokerCall(.POST, BrokerRoutes.contexts, query: query, token: token, safety: .unsafe)
            .body(document, contentType: "application/xml; charset=utf-8")
        return try await connection.send(call, decoding: CreatedContext.self)
    }

    /// `GET /v1/contexts/{id}`: one context with its nodes, roles and status (data values masked).
    public func context(_ id: ContextID) async throws -> ContextDetail {
        try await read(BrokerRoutes.context(id), as: ContextDetail.self)
    }

    /// `POST /v1/contexts/{id}/launch`: launches every pending node of the context.
    public func launch(_ id: ContextID) async throws -> ActionResult {
        try await act(BrokerRoutes.launch(id), as: ActionResult.self)
    }

    /// `POST /v1/contexts/{id}/terminate`: stops every node of the context and ends it.
    public func terminate(_ id: ContextID) async throws -> ContextSummary {
        try await act(BrokerRoutes.terminate(id), as: ContextSummary.self)
    }

    /// `DELETE /v1/contexts/{id}`: forgets a context, its events, output and tokens.
    ///
    /// - Parameter force: Terminate it first if nodes still run; without it such a context is refused
    ///   (``BrokerClientError/Code/conflict``).
    /// - Returns: The context as it was when deleted.
    public func deleteContext(_ id: ContextID, force: Bool = false) async throws -> ContextSummary {
        let path = BrokerRoutes.context(id) + (force ? "?force=true" : "")
        return try await connection.send(BrokerCall(.DELETE, path, token: token, safety: .unsafe), decoding: ContextSummary.self)
    }

    /// `POST /v1/contexts/{id}/workspaces/{workspace}/nodes`: adds `count` nodes to a workspace.
    ///
    /// - Parameters:
    ///   - count: How many nodes to add.
    ///   - workspace: The workspace to grow.
    ///   - context: The workspace's context.
    ///   - launch: Whether to launch them at once; `nil` leaves it to the broker (which launches them).
    /// - Returns: The new nodes and their tokens.
    public func addNodes(_ count: Int, to workspace: String, in context: ContextID, launch: Bool? = nil) async throws -> ActionResult {
        let call = try BrokerCall(.POST, BrokerRoutes.workspaceNodes(context, workspace: workspace), token: token, safety: .unsafe)
            .json(AddNodesRequest(count: count, launch: launch))
        return try await connection.send(call, decoding: ActionResult.self)
    }

    // MARK: Nodes

    /// `GET /v1/contexts/{id}/nodes/{node}`: one node as operator views show it.
    public func node(_ node: String, in context: ContextID) async throws -> NodeSnapshot {
        try await read(BrokerRoutes.node(context, node), as: NodeSnapshot.self)
    }

    /// `GET /v1/contexts/{id}/nodes/{node}/output`: one page of a node's script output.
    ///
    /// - Parameters:
    ///   - node: The node.
    ///   - context: The node's context.
    ///   - from: The index of the first line wanted (a page's `OutputPage.next` is the `from` of the
    ///     next page).
    ///   - limit: The most lines wanted; `nil` lets the broker choose its page size.
    public func output(of node: String, in context: ContextID, from: Int = 0, limit: Int? = nil) async throws -> OutputPage {
        var query: [(name: String, value: String)] = [("from", String(from))]
        if let limit { query.append(("limit", String(limit))) }
        return try await connection.send(
            BrokerCall(.GET, BrokerRoutes.output(context, node), query: query, token: token, safety: .idempotent),
            decoding: OutputPage.self
        )
    }

    /// `POST /v1/contexts/{id}/nodes/{node}/retry`: starts a failed, killed or timed-out node again in its slot.
    ///
    /// - Returns: The node and its new token (the old one stops working).
    public func retry(_ node: String, in context: ContextID) async throws -> ActionResult {
        try await act(BrokerRoutes.retry(context, node), as: ActionResult.self)
    }

    /// `POST /v1/contexts/{id}/nodes/{node}/kill`: stops a node.
    public func kill(_ node: String, in context: ContextID) async throws -> ActionResult {
        try await act(BrokerRoutes.kill(context, node), as: ActionResult.self)
    }

    /// `DELETE /v1/contexts/{id}/nodes/{node}`: removes a slot that has nothing running (pending, failed, killed
    /// or timed out) from its workspace; its name is not used again. Returns the node as it was.
    public func removeNode(_ node: String, in context: ContextID) async throws -> ActionResult {
        try await connection.send(BrokerCall(.DELETE, BrokerRoutes.node(context, node), token: token, safety: .unsafe), decoding: ActionResult.self)
    }

    // MARK: Launching from outside the broker

    /// `POST /v1/contexts/{id}/nodes/{node}/claim`: takes on launching a node that is `launching`, for a
    /// launcher outside the broker.
    ///
    /// - Returns: The node and a fresh token for its current generation (an earlier one stops working).
    public func claimLaunch(_ node: String, in context: ContextID) async throws -> ActionResult {
        try await act(BrokerRoutes.claim(context, node), as: ActionResult.self)
    }

    /// `POST /v1/contexts/{id}/nodes/{node}/launch-report`: tells the broker what became of a launch this client
    /// made (booted, failed, or its agent ended). Safe to repeat: the broker ignores what it already knows.
    public func reportLaunch(_ report: LaunchReport, of node: String, in context: ContextID) async throws {
        let call = try BrokerCall(.POST, BrokerRoutes.launchReport(context, node), token: token, safety: .idempotent).json(report)
        _ = try await connection.perform(call)
    }

    // MARK: Following

    /// `GET /v1/snapshot`: every context (or one) at one event sequence number; follow ``events(context:after:)``
    /// from its `BrokerSnapshot.sequence` to stay current without missing or repeating an event.
    public func snapshot(of context: ContextID? = nil) async throws -> BrokerSnapshot {
        let query: [(name: String, value: String)] = context.map { [("context", $0.rawValue)] } ?? []
        return try await connection.send(
            BrokerCall(.GET, BrokerRoutes.snapshot, query: query, token: token, safety: .idempotent),
            decoding: BrokerSnapshot.self
        )
    }

    /// `GET /v1/events`: the broker's events as they happen, for as long as you iterate, surviving dropped
    /// connections and broker restarts. See ``EventStream``.
    ///
    /// - Parameters:
    ///   - context: Only this context's events; `nil` for all.
    ///   - after: Start after this sequence number (a snapshot's `BrokerSnapshot.sequence`); `nil`
    ///     for every event the broker holds, from the first.
    public func events(context: ContextID? = nil, after: UInt64? = nil) -> EventStream {
        EventStream(connection: connection, token: token, context: context, after: after)
    }

    /// `GET /v1/contexts/{id}/nodes/{node}/output/stream`: a node's script output as it is written, surviving
    /// dropped connections and broker restarts. See ``OutputLineStream``.
    ///
    /// - Parameters:
    ///   - node: The node.
    ///   - context: The node's context.
    ///   - from: The index of the first line wanted (0: the whole output so far, then live lines).
    public func outputStream(of node: String, in context: ContextID, from: Int = 0) -> OutputLineStream {
        OutputLineStream(connection: connection, token: token, context: context, node: node, from: from)
    }

    // MARK: Broker

    /// `GET /v1/healthz`; see ``BrokerConnection/health()``.
    public func health() async throws -> HealthStatus { try await connection.health() }

    /// `GET /metrics`; see ``BrokerConnection/metrics()``.
    public func metrics() async throws -> String { try await connection.metrics() }

    // MARK: Helpers

    private func read<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try await connection.send(BrokerCall(.GET, path, token: token, safety: .idempotent), decoding: T.self)
    }

    private func act<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try await connection.send(BrokerCall(.POST, path, token: token, safety: .unsafe), decoding: T.self)
    }
}
