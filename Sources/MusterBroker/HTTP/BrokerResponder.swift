import HTTPTypes
import Hummingbird
import MusterCore

/// The broker's top responder: routes an agent's request (one with a node token) in a child task, and waits for
/// a held long-poll's answer (``HeldAnswer``) in the connection's own task; routes anything else in place.
///
/// Swift's task allocator keeps a task's deepest use for the task's life. Routing (the router, the middleware,
/// authentication, decoding, the state's staging) is deep; if it ran in the connection's task and the long-poll
/// were held there, every held connection would keep that memory: 10,000 held agents, some 200 MB. Routed in a
/// child task (its memory freed when it returns), a held connection keeps only what the wait itself needs. All of
/// an agent's requests go there, its output and reports too: its connection is the one that waits next. The
/// child costs two more trips through the scheduler, so the operator's and public requests do without it.
struct BrokerResponder<Router: HTTPResponder>: HTTPResponder where Router.Context == BrokerRequestContext {
    typealias Context = BrokerRequestContext

    let router: Router
    let state: BrokerState
    let answers: AnswerEncoder
    let metrics: BrokerMetrics
    /// How many requests are routed at once.
    let gate: RoutingGate

    func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await Self.isAgents(request) ? route(request, context: context) : router.respond(to: request, context: context)
        guard let held = context.held.take() else { return response }
        let answered: Response
        do {
            await held.wake.wait()
            answered = try answers.response(try await state.answerResponse(held.node, after: held.after), context: held.node.context)
        } catch {
            answered = try BrokerMiddleware.map(error, context: context).response(from: request, context: context)
        }
        metrics.recordRequest(
            method: request.method.rawValue,
            route: context.endpointPath ?? "unmatched",
            status: answered.status.code,
            duration: .now - start
        )
        return answered
    }

    /// Whether `request` is an agent's (it bears a node token; the authenticator checks it).
    static func isAgents(_ request: Request) -> Bool {
        bearerToken(request)?.hasPrefix(Token.nodePrefix) == true
    }

    /// Routes in a child task, freed (with all the memory routing took) when this returns, once the gate admits
    /// the request.
    private func route(_ request: Request, context: Context) async throws -> Response {
        await gate.enter()
        defer { gate.leave() }
        async let routed = router.respond(to: request, context: context)
        return try await routed
    }
}
