import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

struct IdleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "What N ok nodes that stay attached cost (target: ≤ 1 request/s per node, broker + agents ≤ 1 % CPU for 8).",
        discussion: """
            Boots the seed topology scaled to N nodes with `muster up --headless --keep`, waits until every node \
            is ok (and checks that every node's script ran), then measures for --seconds: the requests the broker served (from its /metrics) per second \
            and per node per second, and the CPU used by muster up (the broker inside it) and by the agents, as \
            a percentage of one core.
            """
    )

    @Option(help: ArgumentHelp("Node counts, comma-separated.", valueName: "n[,n…]"))
    var nodes = "8"

    @Option(help: ArgumentHelp("How long to measure once every node is ok.", valueName: "seconds"))
    var seconds = 10

    @OptionGroup var output: BenchOutput

    func validate() throws {
        if seconds < 1 { throw ValidationError("--seconds must be at least 1") }
    }

    func run() async throws {
        var report = BenchReport(json: output.json)
        for count in try BenchSizes.parse(nodes, name: "--nodes") {
            BenchReport.progress("idle: \(count) ok nodes for \(seconds) s…")
            report.add(try await measure(count))
        }
        report.printTable(columns: [
            ("requests/s", "requests_per_s", Figure.rate), ("requests/s per node", "requests_per_node_s", Figure.rate),
            ("broker CPU %", "broker_cpu_pct", Figure.percent), ("agents CPU %", "agents_cpu_pct", Figure.percent),
        ])
    }

    private func measure(_ count: Int) async throws -> BenchResult {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-bench-idle-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let image = BenchImage.ownNIC
        try image.write(into: folder)
        let cluster = (folder as NSString).appendingPathComponent("cluster.xml")
        try ScaledCluster.document(nodes: count).write(toFile: cluster, atomically: true, encoding: .utf8)
        let state = (folder as NSString).appendingPathComponent("state")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Installation.sibling("muster"))
        process.arguments = ["up", cluster, "--headless", "--keep", "--state", state]
        let pipe = Pipe()
        process.standardOutput = pipe
        let errors = try ChildErrorLog(folder: folder, name: "up")
        process.standardError = errors.handle
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGINT) }
            process.waitUntilExit()
        }
        var transcript = ""
        for await line in LineReader.lines(of: pipe.fileHandleForReading) {
            transcript += line + "\n"
            if line.hasPrefix("context ") && line.contains("complete") { break }
        }
        guard transcript.contains("all ok"), let broker = LocalBrokerFile.read(from: state) else {
            throw CommandFailure(ExitCodes.failure, "the boot did not end all ok:\n\(transcript.suffix(2_000))\(errors.quoted())")
        }
        let runs = try image.checkRuns(nodes: count, state: state)
        let agents = LocalBench.processes(mentioning: state, plus: process.processIdentifier).filter { $0 != process.processIdentifier }
        func cpu() -> (broker: Double, agents: Double) {
            (Memory.cpuSeconds(pid: process.processIdentifier), agents.reduce(0) { $0 + Memory.cpuSeconds(pid: $1) })
        }
        let requestsBefore = try await Self.requestsServed(broker.url)
        let cpuBefore = cpu()
        let clock = ContinuousClock()
        let start = clock.now
        try await Task.sleep(for: .seconds(seconds))
        let cpuAfter = cpu()
        let elapsed = (clock.now - start).seconds
        // The scrape itself is one request: it is not the nodes'.
        let requests = try await Self.requestsServed(broker.url) - requestsBefore - 1
        return BenchResult(
            scenario: "idle",
            parameters: ["nodes": count, "seconds": seconds],
            figures: [
                "requests_per_s": requests / elapsed, "requests_per_node_s": requests / elapsed / Double(count),
                "broker_cpu_pct": (cpuAfter.broker - cpuBefore.broker) / elapsed * 100,
                "agents_cpu_pct": (cpuAfter.agents - cpuBefore.agents) / elapsed * 100, "scripts_run": Double(runs),
            ]
        )
    }

    /// The total of the broker's request counter.
    static func requestsServed(_ url: String) async throws -> Double {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url + "/metrics"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        var total = 0.0
        for line in String(buffer: body).split(separator: "\n") where line.hasPrefix("muster_http_requests_total{") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { total += value }
        }
        return total
    }
}
