import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MusterAgent
import MusterCore
import Synchronization
import Testing

/// How the agent ends when the broker refuses it: each refusal retrying cannot fix stops it with a Nimbus exit
/// status and a line in its log; what retrying can fix is retried.
@Suite("Agent session against a refusing broker", .timeLimit(.minutes(5)))
struct AgentSessionExitTests {
    static let node = "/v1/contexts/c1/nodes/n-0"

    /// Runs an agent for node `n-0` of context `c1` against `router` until it ends; its status and log.
    static func run(_ router: Router<BasicRequestContext>) async throws -> (status: Int32, log: [String]) {
        try await TemporaryNode.with { node in
            try await StubBroker.run(router) { url in
                let messages = Seen<String>()
                let bootstrap = AgentBootstrap(
                    broker: url,
                    context: "c1",
                    node: "n-0",
                    token: "node-token",
                    layout: node.layout,
                    nics: [.init(label: "publicnic", ip: "10.0.0.7", hostname: "n-0.c1.muster.local")]
                )
                let status = await AgentSession(bootstrap: bootstrap, logger: CapturingLogHandler.logger(messages), policy: quickRetries).run()
                return (status, messages.all)
            }
        }
    }

    /// A broker whose check-in answers `status` with the broker's error body.
    static func refusingCheckIn(_ status: HTTPResponse.Status, code: String, message: String) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("\(node)/checkin") { _, _ in try Response.refusal(status, code: code, message: message) }
        return router
    }

    static let waiting = AnswerResponse(released: false, state: .waiting, requirements: [], answer: nil)

    @Test func `a check-in refused as invalid (422) stops the agent with status 3, saying what the broker said`() async throws {
        let (status, log) = try await Self.run(
            Self.refusingCheckIn(.unprocessableContent, code: "invalid-input", message: "the identity of NIC 'publicnic' has an invalid host name")
        )
        #expect(status == 3)
        #expect(log.contains { $0.contains("the broker refused this node's identity") && $0.contains("invalid host name") }, "\(log)")
    }

    @Test func `a context or node the broker does not have (404) stops the agent with status 1`() async throws {
        let (status, log) = try await Self.run(Self.refusingCheckIn(.notFound, code: "not-found", message: "no context 'c1'"))
        #expect(status == 1)
        #expect(log.contains { $0.contains("no such context or node") && $0.contains("no context 'c1'") }, "\(log)")
    }

    @Test func `another node's token (403) stops the agent with status 1`() async throws {
        let (status, log) = try await Self.run(
            Self.refusingCheckIn(.forbidden, code: "forbidden", message: "this token belongs to another node")
        )
        #expect(status == 1)
        #expect(log.contains { $0.contains("belongs to another node") }, "\(log)")
    }

    @Test func `a token the broker never knew (401 at the first check-in) stops the agent with status 1`() async throws {
        let (status, log) = try await Self.run(Self.refusingCheckIn(.unauthorized, code: "unauthorized", message: "invalid node token"))
        #expect(status == 1)
        #expect(log.contains { $0.contains("does not know this node's token") }, "\(log)")
    }

    @Test func `a token replaced by a retry (401 after the check-in was taken) detaches quietly with status 0`() async throws {
        let router = Router()
        router.post("\(Self.node)/checkin") { _, _ in try Response.json(Self.waiting) }
        router.get("\(Self.node)/answer") { _, _ in
            try Response.refusal(.unauthorized, code: "unauthorized", message: "invalid node token for n-0 (retried nodes get a new token)")
        }
        let (status, log) = try await Self.run(router)
        #expect(status == 0)
        #expect(log.contains { $0.contains("detaching") && $0.contains("retried") }, "\(log)")
        #expect(!log.contains { $0.hasPrefix("error") }, "\(log)")
    }

    @Test func `a broker that is overloaded or failing (429, 503, 500) is asked again until it takes the check-in`() async throws {
        let checkIns = Seen<String>()
        let router = Router()
        router.post("\(Self.node)/checkin") { _, _ in
            checkIns.append("checkin")
            switch checkIns.all.count {
            case 1: return try Response.refusal(.tooManyRequests, code: "too-many-requests", message: "at the connection limit")
            case 2: return try Response.refusal(.serviceUnavailable, code: "unavailable", message: "shutting down")
            case 3: return try Response.refusal(.internalServerError, code: "internal", message: "state not saved")
            default: return try Response.json(Self.waiting)
            }
        }
        router.get("\(Self.node)/answer") { _, _ in
            try Response.json(AnswerResponse(released: false, state: .waiting, requirements: [], answer: nil, terminated: true))
        }
        let (status, log) = try await Self.run(router)
        #expect(checkIns.all.count == 4)
        #expect(status == 0, "the context ended, so the agent detached: \(log)")
    }
}
