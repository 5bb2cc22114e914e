import Foundation
import Logging
import MusterBroker
import MusterClient
import MusterCore
import MusterSystem
import Synchronization
import Testing

/// Surviving the loss of the broker's machine: a standby broker on the same PostgreSQL database takes over when
/// the serving one is killed, and clients with both addresses carry on where they were.
@Suite("Standby and failover")
struct StandbyFailoverTests {
    /// A port on 127.0.0.1 that was free a moment ago.
    static func freePort() throws -> Int {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func `when the broker is killed its standby takes over, and a client with both addresses carries on without a gap`() async throws {
        try await PostgresServer.with { server in
            let store = server.urlText(database: try await server.createDatabase().database)
            let token = "mst_op_standby-\(UUID().uuidString)"
            let primary = try await BrokerChild.start(token: token, arguments: ["--store", store])
            let standbyPort = try Self.freePort()
            let standbyTask = Task {
                try await BrokerChild.start(token: token, listen: "127.0.0.1:\(standbyPort)", arguments: ["--store", store, "--standby"])
            }

            let urls = "\(primary.url.absoluteString),http://127.0.0.1:\(standbyPort)"
            let patient = RetryPolicy(maximumAttempts: 60, baseDelay: .milliseconds(100), maximumDelay: .milliseconds(500))
            let configuration = try BrokerConfiguration(url: urls, retry: patient, reconnect: patient)
            let connection = try BrokerConnection(configuration: configuration, logger: Logger(label: "failover-test"))
            let operatorClient = connection.operatorClient(token: token)
            let created = try await operatorClient.createContext(document: Data(BrokerAPITests.cpe.utf8), name: "failover")
            let id = created.context.id
            let tokens = Dictionary(uniqueKeysWithValues: created.credentials.map { ($0.node, $0.token) })
            let head = connection.agentClient(context: id, node: "head-0", token: tokens["head-0"]!)
            #expect(try await head.checkIn([TestBroker.identity("head-0", index: 0)]).released)

            // Follow the events from the start, across the failover.
            let seen = Mutex<[UInt64]>([])
            let follower = Task {
                for try await element in operatorClient.events(context: id) {
                    if case .event(let event) = element {
                        seen.withLock { $0.append(event.sequence) }
                        if case .nodeRegistered(let node, _) = event.change, node == "worker-0" { return }
                    }
                }
            }
            try await eventually("the follower has the events so far") { !seen.withLock { $0.isEmpty } }

            // The machine is lost: kill -9. Its PostgreSQL session ends, and the standby takes the database.
            kill(primary.process.processIdentifier, SIGKILL)
            let standby = try await standbyTask.value
            #expect(standby.port == standbyPort)

            let worker = connection.agentClient(context: id, node: "worker-0", token: tokens["worker-0"]!)
            let answer = try await worker.checkIn([TestBroker.identity("worker-0", index: 1)])
            #expect(answer.released)
            #expect(answer.answer?.roles.first?.providers.map(\.node) == ["head-0"])
            #expect(answer.answer?.data == [DataSpec(name: "secret", value: "hunter2-very-secret")])
            #expect(connection.activeBaseURL == "http://127.0.0.1:\(standbyPort)")

            try await follower.value
            let sequences = seen.withLock { $0 }
            #expect(sequences == Array(1...UInt64(sequences.count)), "one stream across both brokers, no gap, no repeat: \(sequences)")
            let stored = try await operatorClient.context(id)
            #expect(stored.context.nodes.first { $0.name == "worker-0" }?.state == .configuring)

            try await connection.shutdown()
            await standby.stop()
            await primary.stop()
        }
    }
}

/// Waits until `condition` holds, checking every 50 ms, for at most `timeout`.
func eventually(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("timed out after \(timeout) waiting for: \(what)")
}
