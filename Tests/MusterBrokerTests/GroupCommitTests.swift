import Foundation
import Logging
import MusterCore
import Testing

@testable import MusterBroker

/// Group commit: changes that arrive while a commit is in flight are committed together, in one transaction, and
/// each is answered only after it.
@Suite("Group commit", .timeLimit(.minutes(1)))
struct GroupCommitTests {
    /// A head and `workers` workers that require it.
    static func document(workers: Int) -> String {
        """
        <cluster>
          <workspace><name>head</name><image>h</image><quantity>1</quantity><nic>public</nic>
            <ctx><provides><identity/><role>head</role></provides></ctx></workspace>
          <workspace><name>worker</name><image>w</image><quantity>\(workers)</quantity><nic>public</nic>
            <ctx><provides><identity/></provides><requires><role name="head"/></requires></ctx></workspace>
        </cluster>
        """
    }

    /// Waits (polling, cancellable) until `condition` holds, for at most 30 s.
    static func until(_ what: String, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { throw TestFailure("timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func `check-ins that arrive during a commit are committed together, each answered after it, events without a gap`() async throws {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-group-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let store = GatedStore(try SQLiteStore(path: folder + "/state.sqlite"))
        var logger = Logger(label: "group-commit")
        logger.logLevel = .critical
        let state = try await BrokerState(store: store, logger: logger)
        let workers = 20
        let created = try await state.createContext(
            name: "group",
            check: try BrokerState.checkDocument(Array(Self.document(workers: workers).utf8)),
            launch: false
        )
        let id = created.context.id
        let before = store.commandsPerCommit.count

        // The head's check-in is held at the store; meanwhile every worker checks in and waits for it.
        store.hold()
        defer { store.open() }
        let head = Task { try await state.checkIn(NodeKey(context: id, node: "head-0"), identities: [TestBroker.identity("head-0", index: 0)]) }
        try await Self.until("the head's commit waits at the gate") { store.isHolding }
        let answers = Task {
            try await withThrowingTaskGroup(of: (String, AnswerResponse?).self) { group in
                for index in 0..<workers {
                    let node = "worker-\(index)"
                    group.addTask {
                        (node, try? await state.checkIn(NodeKey(context: id, node: node), identities: [TestBroker.identity(node, index: index + 1)]))
                    }
                }
                // One check-in the engine refuses (no such NIC): it fails alone.
                group.addTask {
                    let bad = Identity(interface: "nosuch", ip: "10.9.9.9", hostname: "bad.example.org", pubkey: TestBroker.key(99))
                    return ("refused", try? await state.checkIn(NodeKey(context: id, node: "worker-0"), identities: [bad]))
                }
                var answers: [String: AnswerResponse?] = [:]
                for try await (node, answer) in group { answers[node] = answer }
                return answers
            }
        }
        // Every one of them is waiting for the held commit before it is let through.
        try await Self.until("every check-in waits for the held commit") { await state.groupForming.count == workers + 1 }
        #expect(store.commandsPerCommit.count == before, "nothing was committed while the gate was closed")
        store.open()
        let headAnswer = try await head.value
        #expect(headAnswer.released, "the head requires nothing")
        let results = try await answers.value
        #expect(results["refused"] == .some(nil), "the refused check-in failed")
        for index in 0..<workers {
            let answer = try #require(results["worker-\(index)"] ?? nil, "worker-\(index) was answered")
            #expect(answer.released, "worker-\(index) is released: the head checked in before it")
        }
        // The head's commit, then one commit for the twenty workers' check-ins together.
        #expect(Array(store.commandsPerCommit.dropFirst(before)) == [1, workers])
        let events = try await store.events(after: 0, context: nil, limit: 10_000)
        #expect(events.map(\.sequence) == Array(1...UInt64(events.count)), "the events are numbered without a gap")
        let snapshot = try await state.snapshot(of: id)
        #expect(snapshot.nodes.filter { $0.state == .configuring }.count == workers + 1)

        // A broker started on the same file sees exactly what was answered.
        await state.shutdown()
        let again = try await BrokerState(store: try SQLiteStore(path: folder + "/state.sqlite"), logger: logger)
        #expect(try await again.snapshot(of: id).nodes == snapshot.nodes)
        await again.shutdown()
    }
}
