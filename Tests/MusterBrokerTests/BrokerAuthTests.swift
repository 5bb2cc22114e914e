import Foundation
import MusterBroker
import MusterCore
import NIOHTTP1
import Testing

/// Who may call what: operator routes need the operator token, agent routes need the node's own token.
@Suite("Broker authentication")
struct BrokerAuthTests {
    @Test func `no token is 401 with a Bearer challenge`() async throws {
        let broker = try await TestBroker.start()
        let reply = try await broker.request(.GET, BrokerRoutes.contexts, auth: .none)
        #expect(reply.status == 401)
        #expect(reply.error?.code == "unauthorized")
        #expect(reply.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer") == true)
        try await broker.stop()
    }

    @Test func `a wrong token is 401`() async throws {
        let broker = try await TestBroker.start()
        #expect(try await broker.request(.GET, BrokerRoutes.contexts, auth: .token("mst_op_wrong")).status == 401)
        let created = try await broker.create(BrokerAPITests.cpe)
        let forged = NodeCredential(node: "head-0", generation: 0, token: "mst_node_forged")
        #expect(try await broker.checkIn(created.context.id, forged, index: 0).status == 401)
        try await broker.stop()
    }

    @Test func `node A's token cannot act as node B`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(BrokerAPITests.cpe)
        let a = created.credentials[0]
        let b = created.credentials[1]
        let impostor = NodeCredential(node: b.node, generation: 0, token: a.token)
        let reply = try await broker.checkIn(created.context.id, impostor, index: 1)
        #expect(reply.status == 403)
        #expect(reply.error?.message.contains("another node") == true)
        #expect(try await broker.request(.GET, BrokerRoutes.node(created.context.id, b.node)).decode(NodeSnapshot.self).state == .pending)
        try await broker.stop()
    }

    @Test func `a node's token is valid only in its own context`() async throws {
        let broker = try await TestBroker.start()
        let first = try await broker.create(BrokerAPITests.cpe)
        let second = try await broker.create(BrokerAPITests.cpe)
        let token = first.credentials[0]
        let reply = try await broker.request(
            .POST,
            BrokerRoutes.checkIn(second.context.id, token.node),
            auth: .token(token.token),
            body: broker.json(CheckInRequest(identities: [TestBroker.identity(token.node, index: 0)]))
        )
        #expect(reply.status == 403)
        try await broker.stop()
    }

    @Test func `an agent token on an operator endpoint is 403`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(BrokerAPITests.cpe)
        for path in [BrokerRoutes.contexts, BrokerRoutes.context(created.context.id), BrokerRoutes.snapshot, BrokerRoutes.events] {
            let reply = try await broker.request(.GET, path, auth: .token(created.credentials[0].token))
            #expect(reply.status == 403, "\(path)")
        }
        let kill = try await broker.request(.POST, BrokerRoutes.kill(created.context.id, "worker-0"), auth: .token(created.credentials[1].token))
        #expect(kill.status == 403)
        try await broker.stop()
    }

    @Test func `the operator token cannot speak as a node`() async throws {
        let broker = try await TestBroker.start()
        let created = try await broker.create(BrokerAPITests.cpe)
        let reply = try await broker.request(
            .POST,
            BrokerRoutes.checkIn(created.context.id, "head-0"),
            body: broker.json(CheckInRequest(identities: [TestBroker.identity("head-0", index: 0)]))
        )
        #expect(reply.status == 403)
        try await broker.stop()
    }

    @Test func `a first start mints an operator token and writes it owner-only`() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-auth-\(UUID().uuidString)").path
        let broker = try await TestBroker.start(stateDirectory: folder, operatorToken: nil)
        let minted = try #require(broker.server.mintedOperatorToken)
        #expect(minted.hasPrefix(Token.operatorPrefix))
        let file = (folder as NSString).appendingPathComponent("operator-token")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == minted + "\n")
        let permissions = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        #expect(try await broker.request(.GET, BrokerRoutes.contexts, auth: .token(minted)).status == 200)
        try await broker.stop()
        // A second start keeps the token and mints nothing.
        let again = try await TestBroker.start(stateDirectory: folder, operatorToken: nil)
        #expect(again.server.mintedOperatorToken == nil)
        #expect(try await again.request(.GET, BrokerRoutes.contexts, auth: .token(minted)).status == 200)
        try await again.stop()
    }

    @Test func `tokens are stored only as hashes`() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-hash-\(UUID().uuidString)").path
        let broker = try await TestBroker.start(stateDirectory: folder)
        let created = try await broker.create(BrokerAPITests.cpe)
        try await broker.stop()
        let database = try Data(contentsOf: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("state.sqlite")))
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("state.sqlite-wal")))) ?? Data()
        for credential in created.credentials {
            #expect(database.range(of: Data(credential.token.utf8)) == nil)
            #expect(wal.range(of: Data(credential.token.utf8)) == nil)
        }
        #expect(database.range(of: Data(broker.operatorToken.utf8)) == nil)
    }

    @Test func `constant-time comparison agrees with equality`() {
        #expect(Token.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Token.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Token.constantTimeEqual([1, 2, 3], [1, 2]))
        let token = Token.mint(prefix: "x_")
        #expect(Token.matches(token, hash: Token.hash(token)))
        #expect(!Token.matches(token + "y", hash: Token.hash(token)))
    }
}
