import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import MusterClient
import MusterCore
import NIOCore
import Synchronization

struct BrokerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "N virtual agents against a broker process over real HTTP, and the HTTP baseline of the same stack.",
        discussion: """
            The broker runs as its own process (`muster broker`) with a SQLite state folder in a temporary \
            directory; this process runs N virtual agents through MusterClient: every dependent checks in and \
            long-polls, then the head checks in, then each agent sends output lines and reports ok. The seed \
            topology is scaled: one rabbitmq-head, the rest split over provisioner, scheduler and aggregator, all \
            requiring the head (with --all-identities, also every identity: answers grow with N, so the whole \
            run grows with N²). Reported: seconds from create to complete, requests per second, release latency \
            (the head's check-in sent → each dependent's long-poll answered) p50/p99/max, the broker's peak \
            RSS, the CPU seconds the broker and this process (the load) used, and the size of one answer; and, \
            in the same run, the same server stack answering /v1/healthz under the same load (the physical limit \
            here) and the broker's share of it. Targets: 10,000 agents in ≤ 3 s, RSS ≤ 200 MB, \
            release p99 ≤ 20 ms. Every dependent waits on the one head, so at large N the mass release is bounded by \
            how fast N answers can be written; after the load, --probes pairs of one provider and one waiting \
            requirer measure the release path itself (the "1:1" columns).
            """
    )

    @Option(help: ArgumentHelp("Agent counts, comma-separated.", valueName: "n[,n…]"))
    var nodes = "100,1000,10000"

    @Flag(help: "Dependents also require every identity (O(N²) answers).")
    var allIdentities = false

    @Option(help: "Output lines each agent sends.")
    var lines = 3

    @Option(help: "One-to-one release probes after the load (a requirer waiting on its own provider); 0 skips them.")
    var probes = 50

    @Option(help: "Event stream readers (`GET /v1/events`, as a console or `muster events --follow`) reading every event during the load.")
    var subscribers = 0

    @Flag(help: "Skip the /v1/healthz baseline.")
    var noBaseline = false

    @OptionGroup var output: BenchOutput

    func run() async throws {
        BenchLimits.raiseOpenFiles()
        var report = BenchReport(json: output.json)
        for count in try BenchSizes.parse(nodes, name: "--nodes") {
            BenchReport.progress("broker\(allIdentities ? " (all identities)" : ""): \(count) agents…")
            let broker = try await BrokerProcess.start()
            do {
                let readers = try await EventReaders.start(subscribers, broker: broker)
                let brokerCPU = Memory.cpuSeconds(pid: broker.pid)
                let loadCPU = Memory.cpuSeconds(pid: getpid())
                let load = try await VirtualAgents.run(count: count, allIdentities: allIdentities, lines: lines, broker: broker)
                var figures = load.figures
                if subscribers > 0 { figures["events_read"] = Double(await readers.stop()) }
                figures["broker_peak_rss_mb"] = Memory.peakMegabytes(pid: broker.pid)
                // Where the machine's two cores went: the broker's process and this one (the virtual agents).
                figures["broker_cpu_s"] = Memory.cpuSeconds(pid: broker.pid) - brokerCPU
                figures["load_cpu_s"] = Memory.cpuSeconds(pid: getpid()) - loadCPU
                if probes > 0 {
                    let probe = try await VirtualAgents.releaseProbe(rounds: probes, broker: broker)
                    figures["single_release_p50_ms"] = probe.percentile(50)
                    figures["single_release_p99_ms"] = probe.percentile(99)
                }
                if !noBaseline {
                    let serverCPU = Memory.cpuSeconds(pid: broker.pid)
                    let clientCPU = Memory.cpuSeconds(pid: getpid())
                    let baseline = try await VirtualAgents.baseline(
                        count: count,
                        requestsPerAgent: max(2, load.requests / max(1, count)),
                        broker: broker
                    )
                    report.add(
                        BenchResult(
                            scenario: "http-baseline",
                            parameters: ["agents": count],
                            figures: [
                                "requests_per_s": baseline, "broker_cpu_s": Memory.cpuSeconds(pid: broker.pid) - serverCPU,
                                "load_cpu_s": Memory.cpuSeconds(pid: getpid()) - clientCPU,
                            ]
                        )
                    )
                    figures["share_of_baseline"] = (figures["requests_per_s"] ?? 0) / max(1, baseline)
                }
                report.add(
                    BenchResult(
                        scenario: allIdentities ? "broker-all-identities" : "broker",
                        parameters: ["nodes": count, "requests": load.requests, "subscribers": subscribers],
                        figures: figures
                    )
                )
            } catch {
                await broker.stop()
                throw error
            }
            await broker.stop()
        }
        report.printTable(columns: [
            ("complete", "complete_s", Figure.seconds), ("req/s", "requests_per_s", Figure.count),
            ("release p50", "release_p50_ms", Figure.milliseconds), ("p99", "release_p99_ms", Figure.milliseconds),
            ("max", "release_max_ms", Figure.milliseconds), ("1:1 p99", "single_release_p99_ms", Figure.milliseconds),
            ("answer", "answer_kb", Figure.kilobytes),
            ("RSS", "broker_peak_rss_mb", Figure.megabytes),
            ("of baseline", "share_of_baseline", Figure.ratio), ("broker CPU", "broker_cpu_s", Figure.seconds),
            ("load CPU", "load_cpu_s", Figure.seconds),
        ])
    }
}

/// A `muster broker` child process on a free port with a fresh state folder.
struct BrokerProcess: Sendable {
    let pid: pid_t
    let url: String
    let token: String
    let folder: String
    let process: Process

    static func start() async throws -> BrokerProcess {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let token = "mst_op_bench-\(UUID().uuidString)"
        let tokenFile = (folder as NSString).appendingPathComponent("token")
        try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Installation.sibling("muster"))
        process.arguments = [
            "broker", "--listen", "127.0.0.1:0", "--state", folder + "/state", "--token-file", tokenFile, "--log-level", "error", "--long-poll", "60",
            // The bench's event readers all use the one operator token.
            "--max-streams-per-token", "100000",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        for await line in LineReader.lines(of: pipe.fileHandleForReading) {
            text += line + "\n"
            if let range = line.range(of: "listening on ") {
                let url = String(line[range.upperBound...].prefix { $0 != " " })
                return BrokerProcess(pid: process.processIdentifier, url: url, token: token, folder: folder, process: process)
            }
        }
        throw ValidationError("the broker did not start: \(text)")
    }

    func stop() async {
        kill(pid, SIGTERM)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// The load: N agents through MusterClient, as real agents talk to a broker.
enum VirtualAgents {
    struct Result {
        var figures: [String: Double]
        var requests: Int
    }

    /// Agents per HTTP client. AsyncHTTPClient's pool scans and copies its connection list on every new
    /// connection, so one pool holding 10,000 connections makes the load generator itself quadratic; real agents
    /// each have their own client, and a shard of this size behaves like that without 10,000 clients.
    static let agentsPerClient = 64

    /// The load's HTTP clients and a broker connection over each; agent `i` uses shard `i % count`.
    struct Shards {
        let clients: [HTTPClient]
        let connections: [BrokerConnection]

        init(agents: Int, url: String) throws {
            let count = max(1, (agents + agentsPerClient - 1) / agentsPerClient)
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: agentsPerClient + 4)
            configuration.timeout = .init(connect: .seconds(30), read: .seconds(120))
            let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
            let clients = (0..<count).map { _ in HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration) }
            self.clients = clients
            self.connections = try clients.map { try BrokerConnection(configuration: BrokerConfiguration(url: url), httpClient: $0, logger: logger) }
        }

        func connection(for agent: Int) -> BrokerConnection { connections[agent % connections.count] }

        func shutdown() async {
            for client in clients { try? await client.shutdown() }
        }

        /// Runs `body` with fresh shards and shuts them down before returning, so that closing thousands of
        /// connections is not measured as part of whatever runs next.
        static func using<T: Sendable>(agents: Int, url: String, _ body: (Shards) async throws -> T) async throws -> T {
            let shards = try Shards(agents: agents, url: url)
            do {
                let result = try await body(shards)
                await shards.shutdown()
                return result
            } catch {
                await shards.shutdown()
                throw error
            }
        }
    }

    static func run(count: Int, allIdentities: Bool, lines: Int, broker: BrokerProcess) async throws -> Result {
        try await Shards.using(agents: count, url: broker.url) { shards in
            let operatorClient = shards.connection(for: 0).operatorClient(token: broker.token)
            let document = Data(ScaledCluster.document(nodes: count, allIdentities: allIdentities).utf8)
            let clock = ContinuousClock()
            let start = clock.now
            let created = try await operatorClient.createContext(document: document, name: "bench", launch: false)
            let id = created.context.id
            let credentials = created.credentials.sorted {
                ($0.node.hasPrefix("rabbitmq-head") ? 0 : 1, $0.node) < ($1.node.hasPrefix("rabbitmq-head") ? 0 : 1, $1.node)
            }
            let head = credentials[0]
            let dependents = Array(credentials.dropFirst())
            let requests = Shared(1)
            let checkedIn = Shared(0)
            let headSent = Shared<ContinuousClock.Instant?>(nil)
            // The size of one dependent's answer as JSON (with all identities it grows with N).
            let answerBytes = Shared(0)
            let (allIn, allInSignal) = AsyncStream.makeStream(of: Void.self)
            if dependents.isEmpty { allInSignal.finish() }

            @Sendable func finish(_ agent: AgentClient, _ index: Int) async throws {
                let text = (0..<lines).map {
                    OutputLine(
                        index: $0,
                        time: Date(),
                        phase: 5,
                        script: "5-thishost-finalize/public",
                        stream: .stdout,
                        text: "agent \(index) line \($0)"
                    )
                }
                if lines > 0 {
                    _ = try await agent.appendOutput(text)
                    requests.update { $0 += 1 }
                }
                try await agent.report(.ok)
                requests.update { $0 += 1 }
            }

            let latencies = try await withThrowingTaskGroup(of: Double?.self) { group in
                for (index, credential) in dependents.enumerated() {
                    group.addTask {
                        let agent = shards.connection(for: index + 1).agentClient(context: id, node: credential.node, token: credential.token)
                        _ = try await agent.checkIn([ScaledCluster.identity(credential.node, index + 1)])
                        requests.update { $0 += 1 }
                        if checkedIn.update({
                            $0 += 1
                            return $0
                        }) == dependents.count {
                            allInSignal.finish()
                        }
                        var answer: AnswerResponse
                        repeat {
                            answer = try await agent.answer(after: 0, wait: .seconds(60))
                            requests.update { $0 += 1 }
                        } while !answer.released
                        let released = clock.now
                        let latency = headSent.value.map { (released - $0).seconds * 1_000 }
                        if index == 0 { answerBytes.update { $0 = (try? WireFormat.encoder().encode(answer).count) ?? 0 } }
                        try await finish(agent, index + 1)
                        return latency
                    }
                }
                group.addTask {
                    for await _ in allIn {}
                    let agent = shards.connection(for: 0).agentClient(context: id, node: head.node, token: head.token)
                    headSent.update { $0 = clock.now }
                    _ = try await agent.checkIn([ScaledCluster.identity(head.node, 0)])
                    requests.update { $0 += 1 }
                    try await finish(agent, 0)
                    return nil
                }
                var samples = Samples()
                for try await latency in group { if let latency { samples.add(latency) } }
                return samples
            }
            let elapsed = (clock.now - start).seconds
            let status = try await operatorClient.context(id).context.status
            guard status.complete && status.allOk else { throw ValidationError("the context did not complete all ok: \(status)") }
            let total = requests.value
            return Result(
                figures: [
                    "complete_s": elapsed,
                    "requests_per_s": Double(total) / elapsed,
                    "release_p50_ms": latencies.percentile(50),
                    "release_p99_ms": latencies.percentile(99),
                    "release_max_ms": latencies.maximum,
                    "answer_kb": Double(answerBytes.value) / 1_024,
                ],
                requests: total
            )
        }
    }

    /// One-to-one release latency, the push path without fan-out: for each of `rounds` provider/requirer pairs,
    /// the requirer checks in and long-polls, then the provider checks in; the time from sending the provider's
    /// check-in to the requirer's answer arriving is one sample.
    static func releaseProbe(rounds: Int, broker: BrokerProcess) async throws -> Samples {
        try await Shards.using(agents: 2, url: broker.url) { shards in
            let connection = shards.connection(for: 0)
            let created = try await connection.operatorClient(token: broker.token).createContext(
                document: Data(ScaledCluster.probePairs(rounds).utf8),
                name: "release-probe"
            )
            let tokens = Dictionary(uniqueKeysWithValues: created.credentials.map { ($0.node, $0.token) })
            let clock = ContinuousClock()
            var samples = Samples()
            for round in 0..<rounds {
                let requirerNode = "probe-requirer-\(round)-0"
                let providerNode = "probe-provider-\(round)-0"
                guard let requirerToken = tokens[requirerNode], let providerToken = tokens[providerNode] else {
                    throw ValidationError("the probe context has no \(requirerNode) or \(providerNode)")
                }
                let requirer = connection.agentClient(context: created.context.id, node: requirerNode, token: requirerToken)
                let provider = connection.agentClient(context: created.context.id, node: providerNode, token: providerToken)
                _ = try await requirer.checkIn([ScaledCluster.identity(requirerNode, 2 * round + 1)])
                let answered = Task { () throws -> ContinuousClock.Instant in
                    var answer: AnswerResponse
                    repeat { answer = try await requirer.answer(after: 0, wait: .seconds(30)) } while !answer.released
                    return clock.now
                }
                // Give the long-poll time to reach the broker, so the sample is a release of a waiting node.
                try await Task.sleep(for: .milliseconds(20))
                let sent = clock.now
                _ = try await provider.checkIn([ScaledCluster.identity(providerNode, 2 * round + 2)])
                samples.add((try await answered.value - sent).seconds * 1_000)
            }
            return samples
        }
    }

    /// Requests per second of `/v1/healthz` under the same client load: N concurrent clients, each sending
    /// `requestsPerAgent` requests one after another.
    static func baseline(count: Int, requestsPerAgent: Int, broker: BrokerProcess) async throws -> Double {
        try await Shards.using(agents: count, url: broker.url) { shards in
            let clock = ContinuousClock()
            let start = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for agent in 0..<count {
                    group.addTask {
                        let connection = shards.connection(for: agent)
                        for _ in 0..<requestsPerAgent { _ = try await connection.health() }
                    }
                }
                try await group.waitForAll()
            }
            return Double(count * requestsPerAgent) / (clock.now - start).seconds
        }
    }
}

/// A value shared by concurrent tasks, behind a lock.
final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ value: Value) {
        storage = Mutex(value)
    }

    var value: Value { storage.withLock { $0 } }

    @discardableResult
    func update<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { storage.withLock { body(&$0) } }
}

/// Process limits a large load needs.
enum BenchLimits {
    /// Raises the open-file limit to its hard maximum (each agent holds a connection).
    static func raiseOpenFiles() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// Event stream readers that read every event while the load runs, as many consoles would.
struct EventReaders: Sendable {
    let shards: VirtualAgents.Shards?
    let tasks: [Task<Int, Never>]

    /// Starts `count` readers, each on a connection of its own; returns once every stream is open.
    static func start(_ count: Int, broker: BrokerProcess) async throws -> EventReaders {
        guard count > 0 else { return EventReaders(shards: nil, tasks: []) }
        let shards = try VirtualAgents.Shards(agents: count, url: broker.url)
        let opened = Shared(0)
        let tasks = (0..<count).map { index in
            let client = shards.connection(for: index).operatorClient(token: broker.token)
            return Task {
                var read = 0
                var counted = false
                do {
                    for try await element in client.events() {
                        if !counted {
                            counted = true
                            opened.update { $0 += 1 }
                        }
                        if case .event = element { read += 1 }
                    }
                } catch {}
                return read
            }
        }
        // A stream's first element says it is open, before any event: wait until every reader has said so.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while opened.value < count && clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        guard opened.value == count else {
            for task in tasks { task.cancel() }
            await shards.shutdown()
            throw ValidationError("only \(opened.value) of \(count) event readers could open a stream")
        }
        return EventReaders(shards: shards, tasks: tasks)
    }

    /// Stops the readers; returns how many events they read in all.
    func stop() async -> Int {
        var total = 0
        for task in tasks {
            task.cancel()
            total += await task.value
        }
        await shards?.shutdown()
        return total
    }
}
