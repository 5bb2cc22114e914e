import Foundation
import HTTPTypes
import Hummingbird
import MusterCore
import NIOCore

/// Builds the broker's router: every route of ``BrokerRoutes``, with authentication, body limits and JSON errors.
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

    typealias Context = BasicRequestContext

    func make() -> Router<Context> {
        let router = Router(context: Context.self)
        router.add(middleware: BrokerMiddleware(metrics: metrics))
        addPublicRoutes(router)
        agentDownload?.register(on: router)
        addOperatorRoutes(router)
        addAttemptRoutes(router)
        addAgentRoutes(router)
        return router
    }

    // MARK: Authentication

    func requireOperator(_ request: Request) async throws(BrokerError) {
        guard let token = HTTPSupport.bearerToken(request) else {
            throw .unauthorized("missing bearer token: send 'Authorization: Bearer <operator token>'")
        }
        if await state.isOperator(token) { return }
        if await state.isNodeToken(token) { throw .forbidden("a node token cannot use operator endpoints") }
        throw .unauthorized("invalid operator token")
    }

    private func requireNode(_ request: Request, _ context: Context) async throws(BrokerError) -> NodeKey {
        let key = NodeKey(
            context: ContextID(try HTTPSupport.parameter(context, "context")),
            node: try HTTPSupport.parameter(context, "node")
        )
        guard let token = HTTPSupport.bearerToken(request) else {
            throw .unauthorized("missing bearer token: send 'Authorization: Bearer <node token>'")
        }
        switch await state.authorizeNode(key, token: token) {
        case .allowed: return key
        case .refused(let error): throw error
        }
    }

    func nodeKey(_ context: Context) throws(BrokerError) -> NodeKey {
        NodeKey(context: ContextID(try HTTPSupport.parameter(context, "context")), node: try HTTPSupport.parameter(context, "node"))
    }

    private func contextID(_ context: Context) throws(BrokerError) -> ContextID {
        ContextID(try HTTPSupport.parameter(context, "context"))
    }

    // MARK: Public

    private func addPublicRoutes(_ router: Router<Context>) {
        router.get("/v1/healthz") { _, _ in
            try HTTPSupport.json(HealthStatus(status: await state.stopping ? "stopping" : "ok", version: BrokerVersion.current))
        }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            let text = await metrics.render(state: state)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }

    // MARK: Operator

    private func addOperatorRoutes(_ router: Router<Context>) {
        router.get("/v1/contexts") { request, _ in
            try await requireOperator(request)
            return try HTTPSupport.json(await state.listContexts())
        }
        router.post("/v1/contexts") { request, _ in
            try await requireOperator(request)
            var request = request
            let launch = try HTTPSupport.boolean(request, "launch", default: false)
            let name = request.uri.queryParameters.get("name").map { String($0) }
            let document = try await HTTPSupport.body(&request, limit: HTTPSupport.Limit.document)
            let created = try await state.createContext(name: name, document: document, launch: launch)
            return try HTTPSupport.json(created, status: .created)
        }
        router.get("/v1/contexts/:context") { request, context in
            try await requireOperator(request)
            return try HTTPSupport.json(try await state.detail(of: try contextID(context)))
        }
        router.post("/v1/contexts/:context/launch") { request, context in
            try await requireOperator(request)
            return try HTTPSupport.json(try await state.launchPending(try contextID(context)))
        }
        router.post("/v1/contexts/:context/terminate") { request, context in
            try await requireOperator(request)
            return try HTTPSupport.json(try await state.terminate(try contextID(context)))
        }
        router.post("/v1/contexts/:context/workspaces/:workspace/nodes") { request, context in
            try await requireOperator(request)
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
        router.get("/v1/contexts/:context/nodes/:node") { request, context in
            try await requireOperator(request)
            return try HTTPSupport.json(try await state.node(try nodeKey(context)))
        }
        router.get("/v1/contexts/:context/nodes/:node/output") { request, context in
            try await requireOperator(request)
            let from = try HTTPSupport.integer(request, "from", in: 0...Int.max, default: 0)
            let limit = try HTTPSupport.integer(request, "limit", in: 1...5_000, default: 1_000)
            return try HTTPSupport.json(try await state.outputPage(try nodeKey(context), after: from, limit: limit, maxBytes: 1024 * 1024))
        }
        router.get("/v1/contexts/:context/nodes/:node/output/stream") { request, context in
            try await requireOperator(request)
            return try await outputStream(request, key: try nodeKey(context))
        }
        router.post("/v1/contexts/:context/nodes/:node/retry") { request, context in
            try await requireOperator(request)
            return try HTTPSupport.json(try await state.retry(try nodeKey(context)))
        }
        router.post("/v1/contexts/:context/nodes/:node/kill") { request, context in
            try await requireOperator(request)
            return try HTTPSupport.json(try await state.kill(try nodeKey(context)))
        }
        router.post("/v1/contexts/:context/nodes/:node/claim") { request, context in
            try await requireOperator(request)
            return try HTTPSupport.json(try await state.claimLaunch(try nodeKey(context)))
        }
        router.post("/v1/contexts/:context/nodes/:node/launch-report") { request, context in
            try await requireOperator(request)
            var request = request
            let body = try await HTTPSupport.decode(LaunchReport.self, from: &request)
            try await state.launchReport(try nodeKey(context), body)
            return HTTPSupport.noContent()
        }
        router.get("/v1/snapshot") { request, _ in
            try await requireOperator(request)
            let context = request.uri.queryParameters.get("context").map { ContextID(String($0)) }
            return try HTTPSupport.json(try await state.brokerSnapshot(context: context))
        }
        router.get("/v1/events") { request, _ in
            try await requireOperator(request)
            return try await eventStream(request)
        }
    }

    // MARK: Agent

    private func addAgentRoutes(_ router: Router<Context>) {
        router.post("/v1/contexts/:context/nodes/:node/checkin") { request, context in
            let key = try await requireNode(request, context)
            var request = request
            let body = try await HTTPSupport.decode(CheckInRequest.self, from: &request)
            return HTTPSupport.json(bytes: try answers.encode(try await state.checkIn(key, identities: body.identities), context: key.context))
        }
        router.get("/v1/contexts/:context/nodes/:node/answer") { request, context in
            let key = try await requireNode(request, context)
            let after = try HTTPSupport.integer(request, "after", in: 0...Int.max, default: 0)
            let wait = try HTTPSupport.integer(request, "wait", in: 0...Int.max, default: longPollSeconds)
            let response = try await state.waitForAnswer(key, after: after, wait: .seconds(min(wait, longPollSeconds)))
            return HTTPSupport.json(bytes: try answers.encode(response, context: key.context))
        }
        router.post("/v1/contexts/:context/nodes/:node/output") { request, context in
            let key = try await requireNode(request, context)
            var request = request
            let body = try await HTTPSupport.decode(OutputAppendRequest.self, from: &request, limit: HTTPSupport.Limit.output)
            return try HTTPSupport.json(try await state.appendOutput(key, lines: body.lines))
        }
        router.post("/v1/contexts/:context/nodes/:node/scripts") { request, context in
            let key = try await requireNode(request, context)
            var request = request
            let body = try await HTTPSupport.decode(ScriptReport.self, from: &request)
            try await state.scriptReport(key, report: body)
            return HTTPSupport.noContent()
        }
        router.post("/v1/contexts/:context/nodes/:node/report") { request, context in
            let key = try await requireNode(request, context)
            var request = request
            let body = try await HTTPSupport.decode(ResultReport.self, from: &request)
            try await state.resultReport(key, report: body)
            return HTTPSupport.noContent()
        }
    }

    // MARK: Streams

    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    private static func streamHeaders() -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return headers
    }

    /// `GET /v1/events`: the stored events after the client's position, then live ones, without gap or repeat.
    private func eventStream(_ request: Request) async throws(BrokerError) -> Response {
        let contextFilter = request.uri.queryParameters.get("context").map { ContextID(String($0)) }
        var after = UInt64(try HTTPSupport.integer(request, "after", in: 0...Int.max, default: 0))
        if let lastEventID = request.headers[Self.lastEventID] {
            guard let value = UInt64(lastEventID.trimmingCharacters(in: CharacterSet.whitespaces)) else {
                throw BrokerError.badRequest("Last-Event-ID must be an event sequence number, not '\(lastEventID)'")
            }
            after = value
        }
        let subscription = try await state.subscribeEvents(context: contextFilter)
        let store = store
        let stream = ReplayingStream<ContextEvent>(
            after: Int(after),
            storedThrough: Int(subscription.sequence),
            page: { try store.events(after: UInt64($0), context: contextFilter, limit: 1_000) },
            live: subscription.stream.withHeartbeats(every: heartbeat, buffer: BrokerState.subscriberBuffer),
            position: { Int($0.sequence) },
            name: { $0.change.kind }
        )
        return stream.response(headers: Self.streamHeaders())
    }

    /// `GET …/output/stream`: a node's stored output from the client's position, then live lines.
    private func outputStream(_ request: Request, key: NodeKey) async throws(BrokerError) -> Response {
        var from = try HTTPSupport.integer(request, "from", in: 0...Int.max, default: 0)
        if let lastEventID = request.headers[Self.lastEventID] {
            guard let value = Int(lastEventID.trimmingCharacters(in: CharacterSet.whitespaces)), value >= 0 else {
                throw BrokerError.badRequest("Last-Event-ID must be an output line index, not '\(lastEventID)'")
            }
            from = value + 1
        }
        let subscription = try await state.subscribeOutput(key)
        let store = store
        // Output positions are line indexes; "after" is the last index the client has.
        let stream = ReplayingStream<OutputLine>(
            after: from - 1,
            storedThrough: subscription.next - 1,
            page: { after in
                try store.output(
                    context: key.context,
                    node: key.node,
                    generation: subscription.generation,
                    from: after + 1,
                    limit: 1_000,
                    maxBytes: 1024 * 1024
                )
            },
            live: subscription.stream.withHeartbeats(every: heartbeat, buffer: BrokerState.subscriberBuffer),
            position: { $0.index },
            name: { _ in BrokerProtocol.outputEvent }
        )
        return stream.response(headers: Self.streamHeaders())
    }
}

/// The broker's version, reported by `/v1/healthz`.
public enum BrokerVersion {
    /// The version string.
    public static let current = "0.1.0"
}
