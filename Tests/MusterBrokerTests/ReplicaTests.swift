import Foundation
import Logging
import MusterBroker
import MusterClient
import MusterCore
import MusterSystem
import Synchronization
import Testing

/// Several brokers serving one PostgreSQL database at once: each follows the others' changes, so any of them
/// answers any request, and losing one loses nothing.
@Suite("Broker replicas on one database")
struct ReplicaTests {
    /// A client that waits out a replica's loss.
    static let patient = RetryPolicy(maximumAttempts: 80, baseDelay: .milliseconds(100), maximumDelay: .milliseconds(500))

    static func connection(_ urls: String) throws -> BrokerConnection {
        let configuration = try BrokerConfiguration(url: urls, retry: patient, reconnect: patient)
        return try BrokerConnection(configuration: configuration, logger: Logger(label: "replica-test"))
    }

    /// Every event of `context` from the start, read from one broker's stream until the one with `sequence`.
    static func events(of context: ContextID, through sequence: UInt64, from client: OperatorClient) async throws -> [ContextEvent] {
        var events: [ContextEvent] = []
        for try await element in client.events(context: context) {
            guard case .event(let event) = element else { continue }
            events.append(event)
            if event.sequence >= sequence { break }
        }
        return events
    }

    /// A virtual agent: checks in, waits to be released, runs two scripts with output, reports ok.
    static func runAgent(_ client: AgentClient, node: String, index: Int, linesPerNode: Int) async throws {
        var answer = try await client.checkIn([TestBroker.identity(node, index: index)])
        while !answer.released { answer = try await client.waitForAnswer(wait: .seconds(20)) }
        var next = 0
        for phase in [2, 5] {
            let script = ScriptRef(phase: phase, script: "\(phase)-script/run")
            try await client.scriptStarted(script)
            let lines = (0..<linesPerNode).map { offset in
                OutputLine(
                    index: next + offset,
                    time: Date(),
                    phase: phase,
                    script: script.script,
                    stream: .stdout,
                    text: "\(node) phase \(phase) line \(offset)"
                )
            }
            next += linesPerNode
            guard case .appended = try await client.appendOutput(lines) else { throw TestFailure("an output gap on \(node)") }
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...40)))
            try await client.scriptFinished(script, exitCode: 0)
        }
        try await client.report(.ok)
    }

    /// A count shared by concurrent tasks.
    final class Tally: Sendable {
        private let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    @Test func `a change made on one replica releases a long-poll held on the other, and both tell the same history`() async throws {
        try await PostgresServer.with { server in
            let store = server.urlText(database: try await server.createDatabase().database)
            let token = "mst_op_replicas-\(UUID().uuidString)"
            let a = try await BrokerChild.start(token: token, arguments: ["--store", store])
            let b = try await BrokerChild.start(token: token, arguments: ["--store", store])
            let onA = try Self.connection(a.url.absoluteString)
            let onB = try Self.connection(b.url.absoluteString)

            // Created on A: B knows the context and its node tokens as soon as they are used there.
            let created = try await onA.operatorClient(token: token).createContext(document: Data(BrokerAPITests.cpe.utf8), name: "replicas")
            let id = created.context.id
            let tokens = Dictionary(uniqueKeysWithValues: created.credentials.map { ($0.node, $0.token) })
            let workerOnB = onB.agentClient(context: id, node: "worker-0", token: tokens["worker-0"]!)
            #expect(try await workerOnB.checkIn([TestBroker.identity("worker-0", index: 1)]).released == false)

            // Held on A; released by head-0's check-in on B.
            let workerOnA = onA.agentClient(context: id, node: "worker-0", token: tokens["worker-0"]!)
            let held = Task { try await workerOnA.waitForAnswer(wait: .seconds(30)) }
            let headOnB = onB.agentClient(context: id, node: "head-0", token: tokens["head-0"]!)
            #expect(try await headOnB.checkIn([TestBroker.identity("head-0", index: 0)]).released)
            let answer = try await held.value
            #expect(answer.released)
            #expect(answer.answer?.roles.first?.providers.map(\.node) == ["head-0"])
            #expect(answer.answer?.data == [DataSpec(name: "secret", value: "hunter2-very-secret")])

            // One history, whichever replica tells it.
            let last = try await onB.operatorClient(token: token).context(id).context.sequence
            let fromA = try await Self.events(of: id, through: last, from: onA.operatorClient(token: token))
            let fromB = try await Self.events(of: id, through: last, from: onB.operatorClient(token: token))
            #expect(fromA.map(\.sequence) == Array(1...last))
            #expect(fromA == fromB)

            // A says it followed B, and how late.
            let raw = try RawConnection(port: a.port)
            try raw.send(RawConnection.request(BrokerRoutes.metrics, headers: ["Connection: close"]))
            let metrics = String(decoding: await raw.readUntilClosed(timeout: .seconds(30)).data, as: UTF8.self)
            #expect(metrics.contains("muster_replica_changes_followed_total"))
            #expect(metrics.contains("muster_replication_lag_seconds"))

            try await onA.shutdown()
            try await onB.shutdown()
            await a.stop()
            await b.stop()
        }
    }

    /// A hundred virtual agents, half of them talking to each replica first; one replica is killed with -9
    /// mid-boot. The context completes through the other, every script ran once, every output line is there
    /// once, and a replica started afterwards tells exactly the same history as the survivor.
    @Test func `100 agents over two replicas complete when one is killed mid-boot`() async throws {
        try await PostgresServer.with { server in
            let store = server.urlText(database: try await server.createDatabase().database)
            let token = "mst_op_replicas-\(UUID().uuidString)"
            let a = try await BrokerChild.start(token: token, arguments: ["--store", store])
            let b = try await BrokerChild.start(token: token, arguments: ["--store", store])
            let aFirst = try Self.connection("\(a.url.absoluteString),\(b.url.absoluteString)")
            let bFirst = try Self.connection("\(b.url.absoluteString),\(a.url.absoluteString)")
            let document = """
                <cluster xmlns="http://www.globus.org/2008/06/workspace/metadata/logistics">
                  <workspace><name>head</name><image>h</image><quantity>1</quantity><nic>public</nic>
                    <ctx><provides><identity/><role>head</role></provides></ctx></workspace>
                  <workspace><name>worker</name><image>w</image><quantity>99</quantity><nic>public</nic>
                    <ctx><provides><identity/></provides>
                      <requires><role name="head" hostname="true" pubkey="true"/><data name="secret">s3cret</data></requires>
                    </ctx></workspace>
                </cluster>
                """
            let created = try await aFirst.operatorClient(token: token).createContext(document: Data(document.utf8), name: "hundred")
            let id = created.context.id
            let linesPerNode = 5
            let finished = Tally()

            // Each agent: check in, wait to be released, run two scripts with output, report ok.
            let agents = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (index, credential) in created.credentials.enumerated() {
                        let client = (index % 2 == 0 ? aFirst : bFirst).agentClient(context: id, node: credential.node, token: credential.token)
                        group.addTask {
                            try await Self.runAgent(client, node: credential.node, index: index, linesPerNode: linesPerNode)
                            finished.add()
                        }
                    }
                    try await group.waitForAll()
                }
            }

            // Mid-boot, A's machine is lost.
            try await eventually("a third of the agents finished") { finished.count >= 33 }
            kill(a.process.processIdentifier, SIGKILL)
            #expect(finished.count < 100, "the kill came mid-boot")
            try await agents.value

            let survivor = try Self.connection(b.url.absoluteString)
            let detail = try await survivor.operatorClient(token: token).context(id)
            #expect(detail.context.nodes.count == 100)
            #expect(detail.context.nodes.allSatisfy { $0.state == .ok }, "\(detail.context.nodes.filter { $0.state != .ok }.map(\.name))")
            for node in detail.context.nodes {
                #expect(node.timeline.map(\.script.script) == ["2-script/run", "5-script/run"], "each script once on \(node.name)")
                let page = try await survivor.operatorClient(token: token).output(of: node.name, in: id)
                #expect(page.lines.map(\.index) == Array(0..<(2 * linesPerNode)), "each line once on \(node.name)")
            }

            // A replica that joins now tells the survivor's history, event for event.
            let c = try await BrokerChild.start(token: token, arguments: ["--store", store])
            let late = try Self.connection(c.url.absoluteString)
            let last = detail.context.sequence
            let fromB = try await Self.events(of: id, through: last, from: survivor.operatorClient(token: token))
            let fromC = try await Self.events(of: id, through: last, from: late.operatorClient(token: token))
            #expect(fromB.map(\.sequence) == Array(1...last))
            #expect(fromB == fromC)

            for connection in [aFirst, bFirst, survivor, late] { try await connection.shutdown() }
            await c.stop()
            await b.stop()
            await a.stop()
        }
    }
}
