import Foundation
import MusterBroker
import MusterCore
import MusterSystem
import NIOHTTP1
import Testing

/// The broker on PostgreSQL: the seed flow over HTTP, a restart that finds everything, and `muster broker --store`
/// refusing what it cannot use without showing the password.
@Suite("Broker on PostgreSQL")
struct PostgresBrokerTests {
    @Test func `a broker on PostgreSQL releases nodes, and a new broker on the same database carries on`() async throws {
        try await PostgresServer.with { server in
            let url = try await server.createDatabase()
            let first = try await TestBroker.start(storeURL: url)
            #expect(try await first.request(.GET, BrokerRoutes.health, auth: .none).decode(HealthStatus.self).store == "postgres")
            // Brokers share a database (replicas): a second one starts and serves alongside.
            let replica = try await TestBroker.start(storeURL: url)
            #expect(try await replica.request(.GET, BrokerRoutes.health, auth: .none).status == 200)
            try await replica.stop()
            let created = try await first.create(BrokerAPITests.cpe)
            let id = created.context.id
            let tokens = Dictionary(uniqueKeysWithValues: created.credentials.map { ($0.node, $0) })
            let head = try await first.checkIn(id, tokens["head-0"]!, index: 0).decode(AnswerResponse.self)
            #expect(head.released)
            let events = try await first.request(.GET, BrokerRoutes.snapshot, auth: .operatorToken)
            #expect(events.status == 200)
            // The store's latency is on /metrics, by kind and operation.
            let metrics = try await first.request(.GET, BrokerRoutes.metrics, auth: .none).text
            #expect(metrics.contains("muster_store_operation_duration_seconds_count{kind=\"postgres\",operation=\"commit\"}"), "\(metrics)")
            try await first.stop()

            // Everything is in the database: a second broker (a restart, or another machine) takes over.
            let second = try await TestBroker.start(storeURL: url)
            let worker = try await second.checkIn(id, tokens["worker-0"]!, index: 1).decode(AnswerResponse.self)
            #expect(worker.released)
            #expect(worker.answer?.roles.first?.providers.map(\.node) == ["head-0"])
            #expect(worker.answer?.data == [DataSpec(name: "secret", value: "hunter2-very-secret")])
            // The operator token set by the first broker's configuration is the stored one.
            let contexts = try await second.request(.GET, BrokerRoutes.contexts, auth: .operatorToken)
            #expect(contexts.status == 200)
            #expect(try contexts.decode(ContextList.self).contexts.map(\.id) == [id])
            // The token of a node is its own on the new broker too: another node's token cannot speak for it.
            let wrong = try await second.request(
                .POST,
                BrokerRoutes.checkIn(id, "worker-1"),
                auth: .token(tokens["worker-0"]!.token),
                body: try second.json(CheckInRequest(identities: [TestBroker.identity("worker-1", index: 2)]))
            )
            #expect(wrong.status == 403)
            try await second.stop()
            // Values never reach PostgreSQL's log either (the broker binds them, never splices them into SQL).
            let log = (try? String(contentsOfFile: server.folder + "/log", encoding: .utf8)) ?? ""
            #expect(!log.contains("hunter2-very-secret"))
        }
    }

    @Test func `muster broker --store refuses a URL it cannot use, without showing the password`() async throws {
        let muster = BrokerChild.productsFolder.appendingPathComponent("muster").path
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-store-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A closed port: nothing answers.
        let unreachable = try await Self.run(
            muster,
            ["broker", "--listen", "127.0.0.1:0", "--state", folder, "--store", "postgres://alice:topsecret-pw@127.0.0.1:1/muster?sslmode=disable"]
        )
        #expect(unreachable.status == 69, "\(unreachable.output)")
        #expect(unreachable.output.contains("cannot connect to PostgreSQL at postgres://alice:***@127.0.0.1:1/muster"))
        #expect(!unreachable.output.contains("topsecret-pw"))
        // Not a PostgreSQL URL, or one with a mistake: a configuration error before anything starts.
        let notPostgres = try await Self.run(muster, ["broker", "--state", folder, "--store", "mysql://bob:pw@host/db"])
        #expect(notPostgres.status == 78, "\(notPostgres.output)")
        #expect(notPostgres.output.contains("--store expects a PostgreSQL URL"))
        let badMode = try await Self.run(muster, ["broker", "--state", folder, "--store", "postgres://bob:hidden-pw@host/db?sslmode=maybe"])
        #expect(badMode.status == 78, "\(badMode.output)")
        #expect(badMode.output.contains("sslmode 'maybe'"))
        #expect(!badMode.output.contains("hidden-pw"))
    }

    @Test func `a PostgreSQL URL is parsed as libpq reads it, and shown without its password`() throws {
        let tcp = try PostgresStoreURL("postgresql://muster:p%40ss@db.example.org:6543/broker?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(tcp.user == "muster")
        #expect(tcp.password == "p@ss")
        #expect(tcp.host == "db.example.org")
        #expect(tcp.port == 6543)
        #expect(tcp.database == "broker")
        #expect(tcp.tlsMode == .verifyFull)
        #expect(tcp.rootCertificate == "/etc/ca.pem")
        #expect(tcp.redacted == "postgres://muster:***@db.example.org:6543/broker?sslmode=verify-full")
        let socket = try PostgresStoreURL("postgres://muster@/broker?host=/run/postgresql")
        #expect(socket.socketPath == "/run/postgresql/.s.PGSQL.5432")
        #expect(socket.tlsMode == .prefer)
        #expect(throws: StoreError.self) { try PostgresStoreURL("postgres://muster@/broker?host=/run/postgresql&sslmode=require") }
        #expect(throws: StoreError.self) { try PostgresStoreURL("postgres://muster@db/") }
        #expect(throws: StoreError.self) { try PostgresStoreURL("postgres://muster@db/x?colour=blue") }
        do {
            _ = try PostgresStoreURL("http://muster:secret@db/x")
            Issue.record("an http URL was accepted")
        } catch {
            #expect(!error.message.contains("secret"))
        }
    }

    /// Runs `muster` and returns its exit status with stdout and stderr together.
    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output: Data = await withCheckedContinuation { continuation in
            Thread {
                let data = (try? pipe.fileHandleForReading.readToEnd()) ?? Data()
                process.waitUntilExit()
                continuation.resume(returning: data)
            }.start()
        }
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
