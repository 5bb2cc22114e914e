import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import MusterCore
import NIOCore
import NIOPosix

/// Builds the broker's router: every route of ``BrokerRoutes``, with authentication, body limits and JSON errors.
///
/// Authentication is structure, not a call each handler must remember: besides the three public routes
/// (`/v1/healthz`, `/metrics`, `/v1/agent/linux/{arch}`), a route exists only inside the operator group or the
/// agent group. Each group's authenticating middleware verifies the token before any handler runs and hands the
/// handler a context that carries the verified identity (``OperatorRequestContext``, ``NodeRequestContext``),
/// so a new route added to a group cannot be reached without its token, and an agent handler acts only as the
/// node whose token was verified.
struct BrokerRouter {
    let state: BrokerState
    let store: any BrokerStore
    let metrics: BrokerMetrics
    /// The longest a long-poll is held, in seconds (a client may ask for less).
    let longPollSeconds: Int
    /// How often idle streams get a heartbeat.
    let heartbeat: Duration
    /// Encodes answers, sharing the JSON of the all-identities list between requirers.
    let answers = AnswerEncoder()
    /// The agent binaries served to cloud nodes, if any.
    var agentDownload: AgentDownload? = nil

    typealias Context = BrokerRequestContext

    /// The routes that take no token, as the router describes them (method and path): everything else is in a
    /// group behind an authenticator.
    static let publicRoutes: Set<String> = ["GET /v1/healthz", "GET /metrics", "GET /v1/agent/linux/{arch}"]

    func make() -> Router<Context> {
        let router = Router(context: Context.self)
        router.add(middleware: BrokerMiddleware(metrics: metrics))
        addPublicRoutes(router)
        agentDownload?.register(on: router)
        // Replicas sharing a store: a token minted on another one is looked up again after following it.
        let catchUp: TokenCatchUp? = store.isShared ? { @Sendable [state] in await state.followOthers() } : nil
        let operatorRoutes = router.group().add(middleware: OperatorAuthenticator(tokens: state.tokens, catchUp: catchUp)).group(
            context: OperatorRequestContext.self
        )
        addOperatorRoutes(operatorRoutes)
        addAttemptRoutes(operatorRoutes)
        addAgentRoutes(
            router.group().add(middleware: NodeAuthenticator(tokens: state.tokens, catchUp: catchUp)).group(context: NodeRequestContext.self)
        )
        return router
    }

    /// Every route the router has, as method and path (`/v1/contexts/:context`), found from the router itself.
    func routeList() -> [(method: String, path: String)] {
        make().routes.map { (method: $0.method.rawValue, path: $0.path.description) }
    }

    // MARK: Path parameters

    func nodeKey(_ context: some RequestContext) throws(BrokerError) -> NodeKey {
        NodeKey(context: ContextID(try HTTPSupport.parameter(context, "context")), node: try HTTPSupport.parameter(context, "node"))
    }

    private func contextID(_ context: some RequestContext) throws(BrokerError) -> ContextID {
        ContextID(try HTTPSupport.parameter(context, "context"))
    }

    // MARK: Public

    private func addPublicRoutes(_ router: Router<Context>) {
        let agents = agentDownload?.health ?? []
        router.get("/v1/healthz") { _, _ in
            try HTTPSupport.json(
                HealthStatus(
                    status: await state.stopping ? "stopping" : "ok",
                    version: BrokerVersion.current,
                    launchesNodes: await state.launchesNodes,
                    store: store.kind,
                    replica: await state.replicaName,
                    agents: agents
                )
            )
        }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            let text = await metrics.render(state: state)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }

    // MARK: Operator

    private func addOperatorRoutes(_ routes: RouterGroup<OperatorRequestContext>) {
        routes.get("/v1/contexts") { _, _ in
            try HTTPSupport.json(await state.listContexts())
        }
        routes.post("/v1/contexts") { request, _ in
            var request = request
            let launch = try HTTPSupport.boolean(request, "launch", default: false)
            let name = request.uri.queryParameters.get("name").map { String($0) }
            let day = 24 * 3_600
            let limits = ContextLimitRequest(
                bootTimeoutSeconds: try HTTPSupport.optionalInteger(request, "bootTimeout", in: 1...(7 * day)),
                leaseSeconds: try HTTPSupport.optionalInteger(request, "lease", in: 1...(366 * day)),
                deadlineSeconds: try HTTPSupport.optionalInteger(request, "deadline", in: 1...(366 * day))
            )
            let document = try await HTTPSupport.body(&request, limit: HTTPSupport.Limit.document)
            // Parsed and validated off the state actor and off the request threads: a large document never
            // holds up other requests.
            let check = try await HTTPSupport.offload { () throws(BrokerError) in try BrokerState.checkDocument(document) }
            let created = try await state.createContext(name: name, check: check, launch: launch, limits: limits)
            return HTTPSupport.json(bytes: try created.wireJSON(), status: .created)
        }
        routes.get("/v1/contexts/:context") { _, context in
            HTTPSupport.json(bytes: try await state.detail(of: try contextID(context)).wireJSON())
        }
        routes.post("/v1/contexts/:context/launch") { _, context in
            try HTTPSupport.json(try await state.launchPending(try contextID(context)))
        }
        routes.post("/v1/contexts/:context/terminate") { _, context in
            try HTTPSupport.json(try await state.terminate(try contextID(context)))
        }
        routes.delete("/v1/contexts/:context") { request, context in
            let force = try HTTPSupport.boolean(request, "force", default: false)
            return try HTTPSupport.json(try await state.deleteContext(try contextID(context), force: force))
        }
        routes.post("/v1/contexts/:context/workspaces/:workspace/nodes") { request, context in
            var request = request
            let body = try await HTTPSupport.decode(AddNodesRequest.self, from: &request)
            let result = try await state.addNodes(
                try contextID(context),
                workspace: try HTTPSupport.parameter(context, "workspace"),
                count: body.count,
                launch: body.launch ?? true
            )
            return try HTTPSupport.json(result, status: .created)
        }
        routes.get("/v1/contexts/:context/nodes/:node") { _, context in
            try HTTPSupport.json(try await state.node(try nodeKey(context)))
        }
        routes.get("/v1/contexts/:context/nodes/:node/output") { request, context in
            let from = try HTTPSupport.integer(request, "from", in: 0...Int.max, default: 0)
            let limit = try HTTPSupport.integer(request, "limit", in: 1...5_000, default: 1_000)
            return try HTTPSupport.json(try await state.outputPage(try nodeKey(context), after: from, limit: limit, maxBytes: 1024 * 1024))
        }
        routes.get("/v1/contexts/:context/nodes/:node/output/stream") { request, context in
            try await outputStream(request, key: try nodeKey(context), context: context)
        }
        routes.delete("/v1/contexts/:context/nodes/:node") { _, context in
            let key = try nodeKey(context)
            return try HTTPSupport.json(try await state.removeNodes(key.context, nodes: [key.node]))
        }
        routes.post("/v1/contexts/:context/nodes/:node/retry") { _, context in
            try HTTPSupport.json(try await state.retry(try nodeKey(context)))
        }
        routes.post("/v1/contexts/:context/nodes/:node/kill") { _, context in
            try HTTPSupport.json(try await state.kill(try nodeKey(context)))
        }
        routes.post("/v1/contexts/:context/nodes/:node/claim") { _, context in
            try HTTPSupport.json(try await state.claimLaunch(try nodeKey(context)))
        }
        routes.post("/v1/contexts/:context/nodes/:node/launch-report") { request, context in
            var request = request
            let body = try await HTTPSupport.decode(LaunchReport.self, from: &request)
            try await state.launchReport(try nodeKey(context), body)
            return HTTPSupport.noContent()
        }
        routes.get("/v1/snapshot") { request, _ in
            let context = request.uri.queryParameters.get("context").map { ContextID(String($0)) }
            return try HTTPSupport.json(try await state.brokerSnapshot(context: context))
        }
        routes.get("/v1/events") { request, context in
            try await eventStream(request, context: context)
        }
    }

    // MARK: Agent

    private func addAgentRoutes(_ routes: RouterGroup<NodeRequestContext>) {
        routes.post("/v1/contexts/:context/nodes/:node/checkin") { request, context in
            var request = request
            // Without `wait` (older agents), the check-in answers at once; with it, it is the first long-poll.
            let wait = try HTTPSupport.integer(request, "wait", in: 0...Int.max, default: 0)
            let body = try await HTTPSupport.decode(CheckInRequest.self, from: &request)
            let poll = try await state.checkIn(context.node, identities: body.identities, wait: .seconds(min(wait, longPollSeconds)))
            return try context.respond(to: poll, answers: answers)
        }
        routes.get("/v1/contexts/:context/nodes/:node/answer") { request, context in
            let after = try HTTPSupport.integer(request, "after", in: 0...Int.max, default: 0)
            let wait = try HTTPSupport.integer(request, "wait", in: 0...Int.max, default: longPollSeconds)
            let poll = try await state.pollAnswer(context.node, after: after, wait: .seconds(min(wait, longPollSeconds)))
            return try context.respond(to: poll, answers: answers)
        }
        routes.post("/v1/contexts/:context/nodes/:node/output") { request, context in
            var request = request
            let body = try await HTTPSupport.decode(OutputAppendRequest.self, from: &request, limit: HTTPSupport.Limit.output)
            return try HTTPSupport.json(try await state.appendOutput(context.node, lines: body.lines))
        }
        routes.post("/v1/contexts/:context/nodes/:node/scripts") { request, context in
            var request = request
            let body = try await HTTPSupport.decode(ScriptReport.self, from: &request)
            try await state.scriptReport(context.node, report: body)
            return HTTPSupport.noContent()
        }
        routes.post("/v1/contexts/:context/nodes/:node/report") { request, context in
            var request = request
            // A report may carry the last output lines, so it may be as large as an output batch.
            let body = try await HTTPSupport.decode(ResultReport.self, from: &request, limit: HTTPSupport.Limit.output)
            guard body.hasTail else {
                try await state.resultReport(context.node, report: body)
                return HTTPSupport.noContent()
            }
            return try HTTPSupport.json(try await state.resultReport(withTail: body, of: context.node))
        }
    }

    // MARK: Streams

    /// Stored items a stream replays at a time. A replaying stream whose reader does not read holds one page
    /// until its connection goes, so pages are small: a few hundred readers cost megabytes, not gigabytes.
    static let replayPageEvents = 200
    static let replayPageBytes = 64 * 1024

    private static func streamHeaders() -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return headers
    }

    /// `GET /v1/events`: the stored events after the client's position, then live ones, without gap or repeat.
    private func eventStream(_ request: Request, context: OperatorRequestContext) async throws(BrokerError) -> Response {
        let contextFilter = request.uri.queryParameters.get("context").map { ContextID(String($0)) }
        var after = try HTTPSupport.integer(request, "after", in: 0...Int.max, default: 0)
        if let lastEventID = try HTTPSupport.lastEventID(request, "an event sequence number") { after = lastEventID }
        let subscription = try await state.subscribeEvents(
            context: contextFilter,
            owner: .operator,
            heartbeat: heartbeat,
            connection: context.connection
        )
        let store = store
        let stream = ReplayingStream<ContextEvent>(
            after: after,
            storedThrough: Int(clamping: subscription.sequence),
            page: { try await store.events(after: UInt64($0), context: contextFilter, limit: Self.replayPageEvents) },
            encode: { event, _ in try StreamFrame.event(event) },
            live: subscription.stream
        )
        return stream.response(headers: Self.streamHeaders())
    }

    /// `GET …/output/stream`: a node's stored output from the client's position, then live lines.
    private func outputStream(_ request: Request, key: NodeKey, context: OperatorRequestContext) async throws(BrokerError) -> Response {
        // Output positions are line indexes; "after" is the last index the client has (-1: none).
        var after = try HTTPSupport.integer(request, "from", in: 0...Int.max, default: 0) - 1
        if let lastEventID = try HTTPSupport.lastEventID(request, "an output line index") { after = lastEventID }
        let subscription = try await state.subscribeOutput(key, owner: .operator, heartbeat: heartbeat, connection: context.connection)
        let store = store
        let stream = ReplayingStream<OutputLine>(
            after: after,
            storedThrough: subscription.next - 1,
            page: { after in
                try await store.output(
                    context: key.context,
                    node: key.node,
                    generation: subscription.generation,
                    from: after + 1,
                    limit: 1_000,
                    maxBytes: Self.replayPageBytes
                )
            },
            encode: { try StreamFrame.output($0, encoder: $1) },
            live: subscription.stream
        )
        return stream.response(headers: Self.streamHeaders())
    }
}

/// The broker's version, reported by `/v1/healthz`.
public enum BrokerVersion {
    /// The version string.
    public static let current = "0.1.0"
}
