import HTTPTypes
import Hummingbird
import MusterCore

/// The broker's top responder: routes an agent's request (one with a node token) in a task of its own, and waits for
/// a held long-poll's answer (``HeldAnswer``) in the connection's own task; routes anything else in place.
///
/// Swift's task allocator keeps a task's deepest use for the task's life. Routing (the router, the middleware,
/// authentication, decoding, the state's staging) is deep; if it ran in the connection's task and the long-poll
/// were held there, every held connection would keep that memory: 10,000 held agents, some 200 MB. Routed in a
/// task of its own (its memory freed when it returns), a held connection keeps only what the wait itself needs. All of
/// an agent's requests go there, its output and reports too: its connection is the one that waits next. The
/// task costs two more trips through the scheduler, so the operator's and public requests do without it.
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
            // The state fires the wake with the answer; only a cancelled wait (a broker stopping) reads it.
            let answer: AnswerResponse
            if let fired = await held.wake.wait() {
                answer = try fired.get()
            } else {
                answer = try await state.answerResponse(held.node, after: held.wake.after)
            }
            answered = try answers.response(answer, context: held.node.context)
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

    /// Routes in a task of its own, freed (with all the memory routing took) when it returns, once the gate admits
    /// the request. Not an `async let`: that child would be allocated in the connection task's own allocator,
    /// whose high-water mark the connection keeps for its life (some 1.7 KB more per held agent, measured). The
    /// task inherits the request's priority and task-local values; cancelling the request cancels it.
    private func route(_ request: Request, context: Context) async throws -> Response {
        await gate.enter()
        defer { gate.leave() }
        let routing = Task { try await router.respond(to: request, context: context) }
        return try await withTaskCancellationHandler {
            try await routing.value
        } onCancel: {
            routing.cancel()
        }
    }
}
