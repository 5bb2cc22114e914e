import Foundation
import Testing

/// Each benchmark scenario runs on a small size and reports sane numbers (not timed: no figure is compared to a
/// target here), so that the benchmarks cannot rot.
@Suite("muster bench")
struct BenchCommandTests {
    /// The JSON objects a `--json` run printed, one per line.
    static func results(_ output: String) throws -> [[String: Any]] {
        try output.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    static func number(_ result: [String: Any], _ key: String) -> Double { (result[key] as? NSNumber)?.doubleValue ?? -1 }

    @Test func `parse reports a median time for each size`() async throws {
        let run = try await CommandRunner.muster(["bench", "parse", "--workspaces", "10,20", "--runs", "2", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let results = try Self.results(run.stdout)
        #expect(results.map { $0["workspaces"] as? Int } == [10, 20])
        for result in results {
            #expect(result["scenario"] as? String == "parse")
            #expect(Self.number(result, "median_ms") > 0)
            #expect(Self.number(result, "max_ms") >= Self.number(result, "median_ms"))
            #expect(Self.number(result, "min_ms") > 0 && Self.number(result, "min_ms") <= Self.number(result, "median_ms"))
            #expect(Self.number(result, "bytes") > 1_000)
        }
    }

    @Test func `broker with event readers: every reader reads the run's events`() async throws {
        let run = try await CommandRunner.muster([
            "bench", "broker", "--nodes", "10", "--subscribers", "3", "--probes", "0", "--no-baseline", "--json",
        ])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let broker = try #require(try Self.results(run.stdout).first { $0["scenario"] as? String == "broker" })
        #expect(broker["subscribers"] as? Int == 3)
        // Each of the 10 agents causes several events (launch, check-in, release, scripts, ok); every reader sees them.
        #expect(Self.number(broker, "events_read") >= 3 * 10 * 3, "\(broker)")
    }

    @Test func `broker on PostgreSQL with one and two replicas, in the same run as SQLite`() async throws {
        let run = try await CommandRunner.muster([
            "bench", "broker", "--nodes", "200", "--store", "sqlite,postgres", "--replicas", "1,2", "--probes", "0", "--no-baseline", "--json",
        ])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let results = try Self.results(run.stdout).filter { $0["scenario"] as? String == "broker" }
        #expect(results.map { $0["store"] as? String } == ["sqlite", "postgres×1", "postgres×2"])
        #expect(results.map { $0["replicas"] as? Int } == [1, 1, 2])
        for result in results {
            #expect(Self.number(result, "complete_s") > 0, "\(result)")
            #expect(Self.number(result, "broker_cpu_s") > 0, "\(result)")
        }
        // The PostgreSQL server's own CPU is reported next to the brokers' (200 agents: with group commit, 20 took the
        // server less than the 10 ms the kernel counts CPU time in).
        #expect(results.dropFirst().allSatisfy { Self.number($0, "store_cpu_s") > 0 }, "\(results)")
    }

    @Test func `fuzz runs every target from consecutive seeds and reports what broke`() async throws {
        let run = try await CommandRunner.muster(["bench", "fuzz", "--iterations", "200", "--seed", "40", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let results = try Self.results(run.stdout)
        #expect(results.count == 6, "one result per target")
        #expect(results.map { $0["seed"] as? Int } == Array(40...45).map { Optional($0) })
        for result in results {
            #expect(result["iterations"] as? Int == 200)
            #expect(Self.number(result, "accepted") + Self.number(result, "rejected") == 200)
            #expect(Self.number(result, "findings") == 0, "\(result)")
        }
        let unknown = try await CommandRunner.muster(["bench", "fuzz", "--target", "checkin,nope"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("the targets are cluster-document, checkin"), "\(unknown.stderr)")
    }

    @Test func `console reports frame times per view, the cost of an event and idle CPU`() async throws {
        let run = try await CommandRunner.muster(["bench", "console", "--nodes", "40", "--frames", "20", "--idle-seconds", "1", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let result = try #require(try Self.results(run.stdout).first)
        #expect(result["nodes"] as? Int == 40)
        #expect(Self.number(result, "events") >= 40, "the head's check-in releases every dependent")
        for view in ["tree", "detail", "waits"] {
            #expect(Self.number(result, "\(view)_p50_ms") > 0)
            #expect(Self.number(result, "\(view)_p99_ms") >= Self.number(result, "\(view)_p50_ms"))
        }
        #expect(Self.number(result, "event_apply_us") > 0)
        #expect((0..<100).contains(Self.number(result, "idle_cpu_percent")))
    }

    @Test func `broker runs virtual agents against a broker process and the HTTP baseline`() async throws {
        let run = try await CommandRunner.muster(["bench", "broker", "--nodes", "20", "--probes", "5", "--json"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let results = try Self.results(run.stdout)
        let baseline = try #require(results.first { $0["scenario"] as? String == "http-baseline" })
        let broker = try #require(results.first { $0["scenario"] as? String == "broker" })
        #expect(Self.number(baseline, "requests_per_s") > 0)
        #expect(broker["nodes"] as? Int == 20)
        // The create request, two per agent (a held check-in, the report with its output), and the operator's polls
        // before the head checks in.
        #expect(Self.number(broker, "requests") >= 1 + 20 * 2 + 1, "\(broker)")
        #expect(Self.number(broker, "complete_s") > 0)
        #expect(Self.number(broker, "requests_per_s") > 0)
        #expect(Self.number(broker, "release_p50_ms") >= 0)
        #expect(Self.number(broker, "release_p99_ms") >= Self.number(broker, "release_p50_ms"))
        #expect(Self.number(broker, "release_max_ms") >= Self.number(broker, "release_p99_ms"))
        #expect(Self.number(broker, "broker_peak_rss_mb") > 1)
        #expect(Self.number(broker, "share_of_baseline") > 0)
        #expect(Self.number(broker, "single_release_p50_ms") > 0, "the one-to-one probes ran")
        #expect(Self.number(broker, "single_release_p99_ms") >= Self.number(broker, "single_release_p50_ms"))
        #expect(Self.number(broker, "broker_cpu_s") >= 0 && Self.number(broker, "load_cpu_s") > 0)
        // The CPU per agent and per request of both processes, in both runs, agree with their totals (seconds are
        // rounded to the millisecond in the JSON: ±500 µs in all).
        for (result, agents, requests) in [
            (broker, 20.0, Self.number(broker, "requests")), (baseline, 20.0, Self.number(baseline, "requests")),
        ] {
            #expect(requests >= 2 * agents, "\(result)")
            for process in ["broker", "load"] {
                let seconds = Self.number(result, "\(process)_cpu_s")
                #expect(seconds >= 0, "\(process) in \(result)")
                #expect(
                    abs(Self.number(result, "\(process)_cpu_us_per_agent") - seconds * 1e6 / agents) <= 500 / agents + 0.001,
                    "\(process) in \(result)"
                )
                #expect(
                    abs(Self.number(result, "\(process)_cpu_us_per_request") - seconds * 1e6 / requests) <= 500 / requests + 0.001,
                    "\(process) in \(result)"
                )
            }
            #expect(Self.number(result, "load_cpu_us_per_agent") > 0, "\(result)")
        }
        #expect(Self.number(broker, "broker_cpu_us_per_agent") > 0, "the broker worked for its agents")
        #expect(Self.number(broker, "broker_cpu_per_request_vs_baseline") >= 0)
    }

    @Test func `broker with all identities completes too`() async throws {
        let run = try await CommandRunner.muster(["bench", "broker", "--nodes", "12", "--all-identities", "--no-baseline", "--probes", "0", "--json"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let result = try #require(try Self.results(run.stdout).first)
        #expect(result["scenario"] as? String == "broker-all-identities")
        #expect(Self.number(result, "complete_s") > 0)
        #expect(result["single_release_p50_ms"] == nil, "--probes 0 skips the probes")
        #expect(Self.number(result, "answer_kb") > 11 * 0.05, "the answer lists all 12 identities")
    }

    @Test func `local boots real agents and reports the time to all ok and the memory`() async throws {
        let run = try await CommandRunner.muster(["bench", "local", "--nodes", "4", "--json"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let result = try #require(try Self.results(run.stdout).first)
        #expect(result["nodes"] as? Int == 4)
        #expect(Self.number(result, "all_ok_s") > 0)
        #expect(Self.number(result, "peak_total_rss_mb") > 1)
        let pss = Self.number(result, "peak_total_pss_mb")
        #expect(pss > 1 && pss <= Self.number(result, "peak_total_rss_mb"), "shared pages count once in PSS")
        // Every script of the image ran (named for the NIC, publicnic): the head its two, each dependent four.
        #expect(Self.number(result, "scripts_run") == 2 * 4 + 2 * 3, "\(result)")
    }

    @Test func `idle: ok nodes that stay attached cost at most one request per second each`() async throws {
        let run = try await CommandRunner.muster(["bench", "idle", "--nodes", "2", "--seconds", "2", "--json"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let result = try #require(try Self.results(run.stdout).first)
        #expect(result["nodes"] as? Int == 2)
        #expect(Self.number(result, "scripts_run") == 2, "each node's 2-thishost/publicnic ran")
        let perNode = Self.number(result, "requests_per_node_s")
        #expect(perNode >= 0 && perNode <= 1, "\(result)")
        #expect(Self.number(result, "broker_cpu_pct") >= 0 && Self.number(result, "agents_cpu_pct") >= 0)
    }

    @Test func `connections: each state is measured on a fresh broker, per connection, and closing them is seen`() async throws {
        let run = try await CommandRunner.muster(["bench", "connections", "--connections", "200", "--json"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let results = try Self.results(run.stdout)
        #expect(results.map { $0["scenario"] as? String } == ["connections-partial", "connections-idle"])
        for result in results {
            #expect(result["connections"] as? Int == 200)
            #expect(Self.number(result, "broker_rss_mb") > Self.number(result, "broker_rss_before_mb"), "\(result)")
            // Debug build on a busy machine: a connection costs the broker kilobytes, not bytes nor megabytes.
            let perConnection = Self.number(result, "kb_per_connection")
            #expect(perConnection > 1 && perConnection < 1_000, "\(result)")
            #expect(Self.number(result, "broker_rss_after_close_mb") > 0)
        }
    }

    @Test func `connections refuses a state it does not know`() async throws {
        let run = try await CommandRunner.muster(["bench", "connections", "--states", "open"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("'open' is not partial or idle"), "\(run.stderr)")
    }
}
