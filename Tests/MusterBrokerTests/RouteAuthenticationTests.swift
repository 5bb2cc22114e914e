import Foundation
import MusterCore
import NIOHTTP1
import Testing

@testable import MusterBroker

/// Every route the router has, found from the router itself (so a route added tomorrow is checked too), against
/// no token, a wrong token and the other kind of token.
@Suite("Route authentication")
struct RouteAuthenticationTests {
    /// Every route of a broker's router, as `METHOD /path/:parameter`.
    static func routes(of broker: TestBroker, agentDownload: AgentDownload?) -> [(method: String, path: String)] {
        var router = BrokerRouter(
            state: broker.server.state,
            store: broker.server.store,
            metrics: broker.server.metrics,
            longPollSeconds: 30,
            heartbeat: .seconds(15)
        )
        router.agentDownload = agentDownload
        return router.routeList()
    }

    /// A path with its parameters filled in for one context and node.
    static func concrete(_ path: String, context: ContextID, node: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            switch segment {
            case ":context", "{context}": BrokerRoutes.escape(context.rawValue)
            case ":node", "{node}": node
            case ":workspace", "{workspace}": "worker"
            case ":arch", "{arch}": "x86_64"
            default: String(segment)
            }
        }.joined(separator: "/") + "?wait=0"
    }

    static func download() throws -> (AgentDownload, String) {
        let folder = try AgentDownloadTests.folder(arch: "x86_64", contents: "#!/bin/sh\n")
        return (try AgentDownload(folder: folder), folder)
    }

    @Test func `the routes without a token are exactly healthz, metrics and the agent download`() async throws {
        let (download, folder) = try Self.download()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let broker = try await TestBroker.start(agentDownload: download)
        let created = try await broker.create(BrokerAPITests.cpe)
        var open: [String] = []
        for route in Self.routes(of: broker, agentDownload: download) {
            let path = Self.concrete(route.path, context: created.context.id, node: "worker-0")
            let reply = try await broker.status(HTTPMethod(rawValue: route.method), path, auth: .none)
            if reply.status != 401 { open.append("\(route.method) \(route.path)") }
        }
        #expect(Set(open) == BrokerRouter.publicRoutes)
        #expect(BrokerRouter.publicRoutes == ["GET /v1/healthz", "GET /metrics", "GET /v1/agent/linux/{arch}"])
        #expect(await broker.isHealthy())
        try await broker.stop()
    }

    @Test func `every other route refuses no token and a wrong token with 401, and the other kind of token with 403`() async throws {
        let (download, folder) = try Self.download()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let broker = try await TestBroker.start(agentDownload: download)
        let routes = Self.routes(of: broker, agentDownload: download).filter { !BrokerRouter.publicRoutes.contains("\($0.method) \($0.path)") }
        #expect(routes.count >= 20, "the router has \(routes.count) authenticated routes")
        for route in routes {
            // A fresh context per route: a route that acts (kill, retry, terminate) changes nothing for the next.
            let created = try await broker.create(BrokerAPITests.cpe)
            let node = try #require(created.credentials.first { $0.node == "worker-0" })
            let path = Self.concrete(route.path, context: created.context.id, node: node.node)
            let method = HTTPMethod(rawValue: route.method)
            let name = "\(route.method) \(route.path)"
            let none = try await broker.status(method, path, auth: .none)
            #expect(none.status == 401, "\(name) without a token: \(none.status)")
            let wrongOperator = try await broker.status(method, path, auth: .token(Token.mint(prefix: Token.operatorPrefix)))
            #expect(wrongOperator.status == 401, "\(name) with a wrong token: \(wrongOperator.status)")
            let wrongNode = try await broker.status(method, path, auth: .token(Token.mint(prefix: Token.nodePrefix)))
            #expect(wrongNode.status == 401, "\(name) with a wrong node token: \(wrongNode.status)")
            let other = try #require(created.credentials.first { $0.node == "worker-1" })
            let otherNode = try await broker.status(method, path, auth: .token(other.token))
            #expect(otherNode.status == 403, "\(name) with another node's token: \(otherNode.status)")
            // Exactly one kind of token is let in; the other kind is 403. The node's try comes first: an operator's
            // DELETE of the context would leave the node's token meaning nothing (401).
            let asNode = try await broker.status(method, path, auth: .token(node.token))
            let asOperator = try await broker.status(method, path, auth: .operatorToken)
            let refused = [asOperator.status, asNode.status].filter { $0 == 401 || $0 == 403 }
            #expect(refused == [403], "\(name): operator token \(asOperator.status), node token \(asNode.status)")
        }
        #expect(await broker.isHealthy())
        try await broker.stop()
    }
}
