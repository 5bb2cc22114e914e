import Foundation
import MusterCore
import NIOCore

/// A virtual agent: one node's requests, encoded once when the agent is made, and the calls a real agent makes
/// with them, over one ``LoadClient``: check in (held by the broker until released), long-poll for the answer only
/// if the check-in's wait ended first, then report ok with the output lines (the quiet path: two requests). Only the
/// answer's `released` flag is decoded; every other response is read to its end and dropped, as the old
/// MusterClient agents dropped them.
struct LoadAgent: Sendable {
    private let checkInRequest: LoadRequest
    private let answerRequest: LoadRequest
    private let reportRequest: LoadRequest
    private(set) var client: LoadClient

    /// The agent of `node` (token `token`) in `context`, checking in with `identity` and the broker's wait
    /// `waitSeconds` (long-polling with the same wait if needed), then reporting ok with `lines` output lines.
    init(
        context: ContextID,
        node: String,
        token: String,
        identity: Identity,
        lines: Int,
        waitSeconds: Int,
        encoder: JSONEncoder,
        endpoint: LoadEndpoint,
        eventLoop: (any EventLoop)? = nil
    ) throws {
        checkInRequest = try .post(
            BrokerRoutes.checkIn(context, node) + "?wait=\(waitSeconds)",
            json: CheckInRequest(identities: [identity]),
            token: token,
            encoder: encoder,
            at: endpoint
        )
        answerRequest = .get(BrokerRoutes.answer(context, node) + "?after=0&wait=\(waitSeconds)", token: token, at: endpoint)
        let now = Date()
        let text = (0..<lines).map {
            OutputLine(index: $0, time: now, phase: 5, script: "5-thishost-finalize/public", stream: .stdout, text: "\(node) line \($0)")
        }
        reportRequest = try .post(
            BrokerRoutes.report(context, node),
            json: ResultReport(.ok, lines: text),
            token: token,
            encoder: encoder,
            at: endpoint
        )
        client = LoadClient(endpoint: endpoint, on: eventLoop)
    }

    /// `POST …/checkin?wait=S` with the agent's identity, held by the broker until the node is released or the wait
    /// ends, then `GET …/answer` until the answer says released; returns how many requests that took and the size of
    /// the released answer in bytes.
    mutating func checkInUntilReleased(isolation: isolated (any Actor)? = #isolation) async throws -> (requests: Int, answerBytes: Int) {
        var body = try await client.call(checkInRequest)
        var requests = 1
        while try !JSONDecoder().decode(Release.self, from: Data(body)).released {
            body = try await client.call(answerRequest)
            requests += 1
        }
        return (requests, body.count)
    }

    /// Reports ok with the output lines; one request.
    mutating func finish(isolation: isolated (any Actor)? = #isolation) async throws {
        _ = try await client.call(reportRequest)
    }

    /// The one field of an answer the agent needs.
    private struct Release: Decodable {
        var released: Bool
    }
}
