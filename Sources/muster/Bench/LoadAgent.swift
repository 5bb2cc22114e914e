import Foundation
import MusterCore
import NIOCore

/// A virtual agent: one node's requests, encoded once when the agent is made, and the calls a real agent makes
/// with them (check in, long-poll for the answer until released, send output lines, report ok), over one
/// ``LoadClient``. Only the answer's `released` flag is decoded; every other response is read to its end and
/// dropped, as the old MusterClient agents dropped them.
struct LoadAgent: Sendable {
    private let checkInRequest: LoadRequest
    private let answerRequest: LoadRequest
    private let outputRequest: LoadRequest?
    private let reportRequest: LoadRequest
    private(set) var client: LoadClient

    /// The agent of `node` (token `token`) in `context`, checking in with `identity`, then sending `lines` output
    /// lines (none: no output request) and long-polling with the broker's wait `waitSeconds`.
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
            BrokerRoutes.checkIn(context, node),
            json: CheckInRequest(identities: [identity]),
            token: token,
            encoder: encoder,
            at: endpoint
        )
        answerRequest = .get(BrokerRoutes.answer(context, node) + "?after=0&wait=\(waitSeconds)", token: token, at: endpoint)
        if lines > 0 {
            let now = Date()
            let text = (0..<lines).map {
                OutputLine(index: $0, time: now, phase: 5, script: "5-thishost-finalize/public", stream: .stdout, text: "\(node) line \($0)")
            }
            outputRequest = try .post(
                BrokerRoutes.output(context, node),
                json: OutputAppendRequest(lines: text),
                token: token,
                encoder: encoder,
                at: endpoint
            )
        } else {
            outputRequest = nil
        }
        reportRequest = try .post(BrokerRoutes.report(context, node), json: ResultReport(.ok), token: token, encoder: encoder, at: endpoint)
        client = LoadClient(endpoint: endpoint, on: eventLoop)
    }

    /// `POST …/checkin` with the agent's identity.
    mutating func checkIn(isolation: isolated (any Actor)? = #isolation) async throws {
        _ = try await client.call(checkInRequest)
    }

    /// `GET …/answer` until the answer says released; returns how many requests that took and the size of the
    /// released answer in bytes.
    mutating func waitForRelease(isolation: isolated (any Actor)? = #isolation) async throws -> (requests: Int, answerBytes: Int) {
        var requests = 0
        while true {
            let body = try await client.call(answerRequest)
            requests += 1
            if try JSONDecoder().decode(Release.self, from: Data(body)).released { return (requests, body.count) }
        }
    }

    /// Sends the output lines (if any) and reports ok; returns how many requests that took.
    mutating func finish(isolation: isolated (any Actor)? = #isolation) async throws -> Int {
        var requests = 0
        if let outputRequest {
            _ = try await client.call(outputRequest)
            requests += 1
        }
        _ = try await client.call(reportRequest)
        return requests + 1
    }

    /// The one field of an answer the agent needs.
    private struct Release: Decodable {
        var released: Bool
    }
}
