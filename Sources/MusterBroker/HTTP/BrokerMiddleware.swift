import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MusterCore

/// Records every request in the metrics and turns every error into the broker's JSON error body.
///
/// Handlers throw ``BrokerError`` for refusals they understand; anything else (a route that does not exist,
/// an error from the framework, a bug) still reaches the client as `{"error": {"code", "message"}}`.
struct BrokerMiddleware: RouterMiddleware {
    typealias Context = BrokerRequestContext

    let metrics: BrokerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let method = request.method.rawValue
        do {
            let response = try await next(request, context)
            // A held long-poll is recorded by the top responder once answered.
            if context.held.isHolding { return response }
            metrics.recordRequest(method: method, route: context.endpointPath ?? "unmatched", status: response.status.code, duration: .now - start)
            return response
        } catch {
            let mapped = Self.map(error, context: context)
            if mapped.status.code >= 500 {
                context.logger.error("request failed", metadata: ["route": "\(context.endpointPath ?? "?")", "error": "\(error)"])
            }
            metrics.recordRequest(method: method, route: context.endpointPath ?? "unmatched", status: mapped.status.code, duration: .now - start)
            throw mapped
        }
    }

    static func map(_ error: any Error, context: Context) -> BrokerError {
        switch error {
        case let error as BrokerError:
            return error
        case let error as HTTPError where error.status == .notFound:
            return BrokerError(.notFound, code: "not-found", "no such route; see the README's Broker API section")
        case let error as HTTPError where error.status == .methodNotAllowed:
            return BrokerError(.methodNotAllowed, code: "method-not-allowed", "this route does not take that method")
        case let error as any HTTPResponseError where error.status == .contentTooLarge:
            return BrokerError(.contentTooLarge, code: "too-large", "the request body is too large")
        case let error as HTTPError:
            return BrokerError(error.status, code: "http-\(error.status.code)", error.body ?? error.status.reasonPhrase)
        case let error as any HTTPResponseError:
            return BrokerError(error.status, code: "http-\(error.status.code)", error.status.reasonPhrase)
        default:
            return BrokerError(.internalServerError, code: "internal", "the broker failed to handle the request; see its log")
        }
    }
}
