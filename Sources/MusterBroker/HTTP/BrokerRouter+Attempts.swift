import Hummingbird
import MusterCore

extension BrokerRouter {
    /// `GET /v1/contexts/{id}/nodes/{node}/generations/{generation}/output?from=N&limit=M`: a page of the output of
    /// one attempt of a node, the current one or an earlier one (a retry starts a new generation; the old one's
    /// output stays stored and is read here).
    func addAttemptRoutes(_ routes: RouterGroup<OperatorRequestContext>) {
        routes.get("/v1/contexts/:context/nodes/:node/generations/:generation/output") { request, context in
            guard let generation = Int(try HTTPSupport.parameter(context, "generation")), generation >= 0 else {
                throw BrokerError.badRequest("the generation must be a whole number from 0 (the first attempt)")
            }
            let from = try HTTPSupport.integer(request, "from", in: 0...Int.max, default: 0)
            let limit = try HTTPSupport.integer(request, "limit", in: 1...5_000, default: 1_000)
            let page = try await state.outputPage(try nodeKey(context), generation: generation, after: from, limit: limit, maxBytes: 1024 * 1024)
            return try HTTPSupport.json(page)
        }
    }
}
