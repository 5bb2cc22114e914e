import Foundation
import HTTPTypes
import Logging
import MusterCore
import NIOCore
import Testing

@testable import MusterBroker

/// Group commit: changes that arrive while a commit is in flight are committed together, in one transaction, and
/// each is answered only after it.
@Suite("Group commit", .timeLimit(.minutes(5)))
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

    /// A new temporary folder for a state file.
    static func folder() throws -> String {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-group-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    static var logger: Logger {
        var logger = Logger(label: "group-commit")
        logger.logLevel = .critical
        return logger
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
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = GatedStore(try SQLiteStore(path: folder + "/state.sqlite"))
        let state = try await BrokerState(store: store, logger: Self.logger)
        let workers = 20
        let created = try await state.createContext(
            name: "group",
            check: try BrokerState.checkDocument(Array(Self.document(workers: workers).utf8)),
            launch: false
        )
        let id = created.context.id
        let before = store.commandsPerCommit.count
        let follower = try await state.subscribeEvents(
            context: id,
            owner: .operator,
            heartbeat: .seconds(3_600),
            connection: StreamConnection(channel: nil)
        )

        // The head's check-in is held at the store; meanwhile every worker checks in and waits for it.
        store.hold()
        defer { store.open() }
        let head = Task {
            try await state.checkIn(NodeKey(context: id, node: "head-0"), identities: [TestBroker.identity("head-0", index: 0)]).answered
        }
        try await Self.until("the head's commit waits at the gate") { store.isHolding }
        let answers = Task {
            try await withThrowingTaskGroup(of: (String, AnswerResponse?).self) { group in
                for index in 0..<workers {
                    let node = "worker-\(index)"
                    group.addTask {
                        (
                            node,
                            try? await state.checkIn(NodeKey(context: id, node: node), identities: [TestBroker.identity(node, index: index + 1)])
                                .answered
                        )
                    }
                }
                // One check-in the engine refuses (no such NIC): it fails alone.
                group.addTask {
                    let bad = Identity(interface: "nosuch", ip: "10.9.9.9", hostname: "bad.example.org", pubkey: TestBroker.key(99))
                    return ("refused", try? await state.checkIn(NodeKey(context: id, node: "worker-0"), identities: [bad]).answered)
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
        let headAnswer = try #require(try await head.value)
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

        // A follower got the head's events as one frame and the whole group's as one more, every event once, in order.
        var frames: [StreamFrame] = []
        for await item in follower.stream {
            guard case .frame(let frame) = item else { continue }
            frames.append(frame)
            if frame.position == Int(events.last!.sequence) { break }
        }
        #expect(frames.count == 2)
        let ids = frames.flatMap { String(buffer: $0.bytes).split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { Int($0.dropFirst(4))! } }
        #expect(ids == events.filter { $0.sequence > follower.sequence }.map { Int($0.sequence) })

        // A broker started on the same file sees exactly what was answered.
        await state.shutdown()
        let again = try await BrokerState(store: try SQLiteStore(path: folder + "/state.sqlite"), logger: Self.logger)
        #expect(try await again.snapshot(of: id).nodes == snapshot.nodes)
        await again.shutdown()
    }

    /// `count` output lines of `node` from index `from`.
    static func lines(_ node: String, from: Int = 0, count: Int) -> [OutputLine] {
        (from..<from + count).map { OutputLine(index: $0, time: Date(), phase: 5, script: "5-run/public", stream: .stdout, text: "\(node) \($0)") }
    }

    @Test
    func
        `reports and output that arrive during a commit are committed together; a gap and a refused result fail alone, the refused one keeping its lines`()
        async throws
    {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = GatedStore(try SQLiteStore(path: folder + "/state.sqlite"))
        let state = try await BrokerState(store: store, logger: Self.logger)
        let workers = 14
        let created = try await state.createContext(
            name: "group",
            check: try BrokerState.checkDocument(Array(Self.document(workers: workers).utf8)),
            launch: false
        )
        let id = created.context.id
        func key(_ node: String) -> NodeKey { NodeKey(context: id, node: node) }
        // Every node but worker-13 checks in and is released.
        _ = try await state.checkIn(key("head-0"), identities: [TestBroker.identity("head-0", index: 0)])
        for index in 0..<13 {
            _ = try await state.checkIn(key("worker-\(index)"), identities: [TestBroker.identity("worker-\(index)", index: index + 1)])
        }
        let before = store.commandsPerCommit.count

        store.hold()
        defer { store.open() }
        let first = Task { try await state.resultReport(withTail: ResultReport(.ok, lines: Self.lines("worker-0", count: 3)), of: key("worker-0")) }
        try await Self.until("the first report's commit waits at the gate") { store.isHolding }
        let answers = Task {
            try await withThrowingTaskGroup(of: (String, Result<Int, BrokerError>).self) { group in
                for index in 1...10 {
                    let node = "worker-\(index)"
                    group.addTask {
                        do throws(BrokerError) {
                            return (
                                node,
                                .success(
                                    try await state.resultReport(withTail: ResultReport(.ok, lines: Self.lines(node, count: 3)), of: key(node)).next
                                )
                            )
                        } catch {
                            return (node, .failure(error))
                        }
                    }
                }
                group.addTask {
                    do throws(BrokerError) {
                        return ("worker-11", .success(try await state.appendOutput(key("worker-11"), lines: Self.lines("worker-11", count: 3)).next))
                    } catch {
                        return ("worker-11", .failure(error))
                    }
                }
                // A gap: it fails alone and leaves nothing.
                group.addTask {
                    do throws(BrokerError) {
                        return (
                            "worker-12",
                            .success(try await state.appendOutput(key("worker-12"), lines: Self.lines("worker-12", from: 5, count: 1)).next)
                        )
                    } catch {
                        return ("worker-12", .failure(error))
                    }
                }
                // Not released: its ok is refused, its lines are kept.
                group.addTask {
                    do throws(BrokerError) {
                        let report = ResultReport(.ok, lines: Self.lines("worker-13", count: 2))
                        return ("worker-13", .success(try await state.resultReport(withTail: report, of: key("worker-13")).next))
                    } catch {
                        return ("worker-13", .failure(error))
                    }
                }
                var answers: [String: Result<Int, BrokerError>] = [:]
                for try await (node, answer) in group { answers[node] = answer }
                return answers
            }
        }
        try await Self.until("every change waits for the held commit") { await state.groupForming.count == 13 }
        #expect(store.commandsPerCommit.count == before, "nothing was committed while the gate was closed")
        store.open()
        #expect(try await first.value.next == 3)
        let results = try await answers.value
        for index in 1...10 {
            #expect(try results["worker-\(index)"]?.get() == 3, "worker-\(index) has its three lines")
        }
        #expect(try results["worker-11"]?.get() == 3)
        guard case .failure(let gap) = results["worker-12"] else {
            Issue.record("the output with a gap was accepted")
            return
        }
        #expect(gap.detail.code == "output-gap" && gap.detail.expected == 0)
        guard case .failure(let refused) = results["worker-13"] else {
            Issue.record("an ok from a node never released was accepted")
            return
        }
        #expect(refused.status == .conflict)
        // The first report, then one commit for the ten reports (the output and the refused report add no command).
        #expect(Array(store.commandsPerCommit.dropFirst(before)) == [1, 10])
        let events = try await store.events(after: 0, context: nil, limit: 10_000)
        #expect(events.map(\.sequence) == Array(1...UInt64(events.count)), "the events are numbered without a gap")
        let snapshot = try await state.snapshot(of: id)
        #expect(snapshot.nodes.filter { $0.state == .ok }.map(\.name).sorted() == (0...10).map { "worker-\($0)" }.sorted())

        // What was answered is what is stored, and a broker started on the same file sees the same.
        await state.shutdown()
        let again = try await BrokerState(store: try SQLiteStore(path: folder + "/state.sqlite"), logger: Self.logger)
        #expect(try await again.snapshot(of: id).nodes == snapshot.nodes)
        for (node, count) in [("worker-0", 3), ("worker-10", 3), ("worker-11", 3), ("worker-12", 0), ("worker-13", 2)] {
            let page = try await again.outputPage(key(node), after: 0, limit: 100, maxBytes: 1 << 20)
            #expect(page.total == count && page.lines.map(\.text) == Self.lines(node, count: count).map(\.text), "\(node)'s output")
        }
        await again.shutdown()
    }
}

extension AnswerPoll {
    /// The answer to send now (a poll without a wait always has one).
    var answered: AnswerResponse? {
        if case .now(let response) = self { response } else { nil }
    }
}
