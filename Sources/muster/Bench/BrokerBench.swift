import ArgumentParser
import Foundation
import MusterSystem
import Synchronization

struct BrokerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "N virtual agents against a broker process over real HTTP, and the HTTP baseline of the same stack.",
        discussion: """
            The broker runs as its own process (`muster broker`) with a SQLite state folder in a temporary \
            directory; this process runs N virtual agents, each on a keep-alive connection of its own: every \
            dependent checks in, its check-in held as its long-poll; once the broker has them all, the head checks \
            in, which releases them; then each agent reports ok with its output lines (a quiet agent's two \
            requests). The agents speak through the bench's own minimal HTTP/1.1 client (requests encoded once, \
            responses parsed only as far as needed), so that the load costs this process little next to the \
            broker's work. The seed topology is scaled: one rabbitmq-head, the rest split over provisioner, \
            scheduler and aggregator, all requiring the head (with --all-identities, also every identity: answers \
            grow with N, so the whole run grows with N²). Reported: seconds from create to complete, requests per \
            second, release latency (the head's check-in sent → each dependent's long-poll answered) p50/p99/max, \
            the broker's peak RSS, the CPU the broker used (seconds, µs per agent and per request) and the CPU \
            this process (the load) used, and the size of one answer; and, in the same run, the same server stack \
            answering /v1/healthz under the same load on the same client (the physical limit here), the broker's \
            share of its rate and what one broker request costs the broker in bare-HTTP requests. Targets: 10,000 \
            agents in ≤ 3 s, RSS ≤ 200 MB, release p99 ≤ 20 ms. Every dependent waits on the one head, so at large \
            N the mass release is bounded by how fast N answers can be written; after the load, --probes pairs of \
            one provider and one waiting requirer measure the release path itself (the "1:1" columns).

            --store runs the same load on each store given: sqlite (the default), postgres (a throwaway \
            PostgreSQL server started for the run with initdb and pg_ctl, a fresh database per setup) or a \
            postgres:// URL of a database to use. With PostgreSQL, --replicas runs each setup with that many \
            brokers sharing the database, the agents spread over them in turn; the broker figures are then the \
            replicas' together, and the store's own CPU (the PostgreSQL server, when it runs here) is reported \
            next to them.

            Example:
              muster bench broker --nodes 1000,10000 --store sqlite,postgres --replicas 1,2
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

    @Option(
        help: ArgumentHelp("Stores to run on, comma-separated: sqlite, postgres (a throwaway server) or a postgres:// URL.", valueName: "store[,…]")
    )
    var store = "sqlite"

    @Option(help: ArgumentHelp("With PostgreSQL: broker replicas sharing the database, comma-separated counts.", valueName: "n[,n…]"))
    var replicas = "1"

    @OptionGroup var output: BenchOutput

    func run() async throws {
        BenchLimits.raiseOpenFiles()
        var report = BenchReport(json: output.json)
        let stores = store.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for kind in stores where kind != "sqlite" && kind != "postgres" && !kind.hasPrefix("postgres://") && !kind.hasPrefix("postgresql://") {
            throw ValidationError("--store: '\(kind)' is not sqlite, postgres or a postgres:// URL")
        }
        let replicaCounts = try BenchSizes.parse(replicas, name: "--replicas")
        // One throwaway server for the whole run, when asked for.
        let server = stores.contains("postgres") ? try await Self.startPostgres() : nil
        do {
            for kind in stores {
                for replicaCount in kind == "sqlite" ? [1] : replicaCounts {
                    for count in try BenchSizes.parse(nodes, name: "--nodes") {
                        // A fresh database per setup on the throwaway server; a given URL is used as it is.
                        var url: String? = kind == "sqlite" ? nil : kind
                        if kind == "postgres", let server { url = server.urlText(database: try await server.createDatabaseNamed()) }
                        try await run(
                            count: count,
                            store: kind == "sqlite" ? "sqlite" : "postgres",
                            url: url,
                            replicas: replicaCount,
                            server: kind == "postgres" ? server : nil,
                            into: &report
                        )
                    }
                }
            }
        } catch {
            await server?.stop()
            throw error
        }
        await server?.stop()
        report.printTable(columns: [
            ("store", "store", Figure.ratio), ("complete", "complete_s", Figure.seconds), ("req/s", "requests_per_s", Figure.count),
            ("release p50", "release_p50_ms", Figure.milliseconds), ("p99", "release_p99_ms", Figure.milliseconds),
            ("max", "release_max_ms", Figure.milliseconds), ("1:1 p99", "single_release_p99_ms", Figure.milliseconds),
            ("answer", "answer_kb", Figure.kilobytes),
            ("RSS", "broker_peak_rss_mb", Figure.megabytes),
            ("of baseline", "share_of_baseline", Figure.ratio), ("broker CPU", "broker_cpu_s", Figure.seconds),
            ("broker/agent", "broker_cpu_us_per_agent", Figure.microseconds), ("broker/req", "broker_cpu_us_per_request", Figure.microseconds),
            ("÷ baseline/req", "broker_cpu_per_request_vs_baseline", Figure.ratio),
            ("store CPU", "store_cpu_s", Figure.seconds),
            ("load CPU", "load_cpu_s", Figure.seconds), ("load/agent", "load_cpu_us_per_agent", Figure.microseconds),
        ])
    }

    /// A throwaway PostgreSQL server for `--store postgres`.
    static func startPostgres() async throws -> ThrowawayPostgres {
        BenchReport.progress("starting a throwaway PostgreSQL server…")
        do {
            return try await ThrowawayPostgres.start()
        } catch {
            throw ValidationError("--store postgres needs PostgreSQL's initdb and pg_ctl (apt-get install postgresql): \(error)")
        }
    }

    /// One setup: `replicas` brokers on one store, `count` agents.
    private func run(count: Int, store: String, url: String?, replicas: Int, server: ThrowawayPostgres?, into report: inout BenchReport) async throws
    {
        let setup = store == "sqlite" ? "sqlite" : "\(store) ×\(replicas)"
        BenchReport.progress("broker\(allIdentities ? " (all identities)" : "") on \(setup): \(count) agents…")
        var brokers: [BrokerProcess] = []
        do {
            // Replicas share the operator token, as they share everything else.
            for _ in 0..<max(1, replicas) { brokers.append(try await BrokerProcess.start(store: url, token: brokers.first?.token)) }
            let broker = brokers[0]
            do {
                let readers = try await EventReaders.start(subscribers, broker: broker)
                // Where the machine's two cores went: the brokers' processes, the store's server, and this one (the
                // virtual agents).
                let loadSpan = CPUSpan(brokers: brokers.map(\.pid), store: server?.postmasterPID)
                let load = try await VirtualAgents.run(
                    count: count,
                    allIdentities: allIdentities,
                    lines: lines,
                    broker: broker,
                    replicas: Array(brokers.dropFirst())
                )
                var figures = load.figures.merging(loadSpan.figures(agents: count, requests: load.requests)) { $1 }
                if subscribers > 0 { figures["events_read"] = Double(await readers.stop()) }
                figures["broker_peak_rss_mb"] = brokers.map { Memory.peakMegabytes(pid: $0.pid) }.max() ?? 0
                if probes > 0 {
                    let probe = try await VirtualAgents.releaseProbe(rounds: probes, broker: broker)
                    figures["single_release_p50_ms"] = probe.percentile(50)
                    figures["single_release_p99_ms"] = probe.percentile(99)
                }
                if !noBaseline {
                    let requestsPerAgent = max(2, load.requests / max(1, count))
                    let baselineSpan = CPUSpan(broker: broker.pid)
                    let baseline = try await VirtualAgents.baseline(count: count, requestsPerAgent: requestsPerAgent, broker: broker)
                    var baselineFigures = baselineSpan.figures(agents: count, requests: count * requestsPerAgent)
                    baselineFigures["requests_per_s"] = baseline
                    report.add(
                        BenchResult(
                            scenario: "http-baseline",
                            parameters: ["agents": count, "requests": count * requestsPerAgent],
                            figures: baselineFigures
                        )
                    )
                    figures["share_of_baseline"] = (figures["requests_per_s"] ?? 0) / max(1, baseline)
                    // What a broker request costs the broker, in bare-HTTP requests.
                    figures["broker_cpu_per_request_vs_baseline"] =
                        (figures["broker_cpu_us_per_request"] ?? 0) / max(0.001, baselineFigures["broker_cpu_us_per_request"] ?? 0)
                }
                report.add(
                    BenchResult(
                        scenario: allIdentities ? "broker-all-identities" : "broker",
                        parameters: ["nodes": count, "requests": load.requests, "subscribers": subscribers, "replicas": brokers.count],
                        figures: figures,
                        notes: ["store": store == "sqlite" ? "sqlite" : "\(store)×\(brokers.count)"]
                    )
                )
            }
        } catch {
            for broker in brokers { await broker.stop() }
            throw error
        }
        for broker in brokers { await broker.stop() }
    }
}

/// A `muster broker` child process on a free port with a fresh state folder.
struct BrokerProcess: Sendable {
    let pid: pid_t
    let url: String
    let token: String
    let folder: String
    let process: Process

    /// Starts a broker; with `store`, on that PostgreSQL URL (replicas share one, and their operator `token`);
    /// `arguments` are added to its command line.
    static func start(store: String? = nil, token given: String? = nil, arguments extra: [String] = []) async throws -> BrokerProcess {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let token = given ?? "mst_op_bench-\(UUID().uuidString)"
        let tokenFile = (folder as NSString).appendingPathComponent("token")
        try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Installation.sibling("muster"))
        process.arguments =
            [
                "broker", "--listen", "127.0.0.1:0", "--state", folder + "/state", "--token-file", tokenFile, "--log-level", "error", "--long-poll",
                "60",
                // The bench's event readers all use the one operator token.
                "--max-streams-per-token", "100000",
            ] + (store.map { ["--store", $0] } ?? []) + extra
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
