import ArgumentParser
import Foundation

struct LocalBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local",
        abstract: "N real agent processes on the local launcher running small real scripts (target: 100 all ok in ≤ 10 s).",
        discussion: """
            Writes the seed topology scaled to N nodes with an image whose scripts print a few lines in every \
            phase, runs `muster up --headless` on it, checks that every script ran, and reports the seconds from start to the context being \
            complete, and the peak of the total memory of muster and its agents (sampled every 100 ms): the sum \
            of resident sets, which counts the shared Swift libraries once per process, and the sum of \
            proportional sets (PSS), which counts them once.
            """
    )

    @Option(help: ArgumentHelp("Node counts, comma-separated.", valueName: "n[,n…]"))
    var nodes = "100"

    @OptionGroup var output: BenchOutput

    func run() async throws {
        BenchLimits.raiseOpenFiles()
        var report = BenchReport(json: output.json)
        for count in try BenchSizes.parse(nodes, name: "--nodes") {
            BenchReport.progress("local: \(count) nodes…")
            report.add(try await measure(count))
        }
        report.printTable(columns: [
            ("all ok", "all_ok_s", Figure.seconds), ("peak RSS (sum)", "peak_total_rss_mb", Figure.megabytes),
            ("peak PSS (sum)", "peak_total_pss_mb", Figure.megabytes),
        ])
    }

    private func measure(_ count: Int) async throws -> BenchResult {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-bench-local-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let image = BenchImage.everyPhase
        try image.write(into: folder)
        let cluster = (folder as NSString).appendingPathComponent("cluster.xml")
        try ScaledCluster.document(nodes: count).write(toFile: cluster, atomically: true, encoding: .utf8)
        let work = (folder as NSString).appendingPathComponent("work")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Installation.sibling("muster"))
        process.arguments = ["up", cluster, "--headless", "--state", work]
        let pipe = Pipe()
        process.standardOutput = pipe
        let errors = try ChildErrorLog(folder: folder, name: "up")
        process.standardError = errors.handle
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        let sampler = Task {
            var peak = (rss: 0.0, pss: 0.0)
            while !Task.isCancelled {
                let pids = Self.processes(mentioning: work, plus: process.processIdentifier)
                peak.rss = max(peak.rss, pids.reduce(0.0) { $0 + Memory.residentMegabytes(pid: $1) })
                peak.pss = max(peak.pss, pids.reduce(0.0) { $0 + Memory.proportionalMegabytes(pid: $1) })
                try? await Task.sleep(for: .milliseconds(100))
            }
            return peak
        }
        var completed: Double?
        var transcript = ""
        for await line in LineReader.lines(of: pipe.fileHandleForReading) {
            transcript += line + "\n"
            if completed == nil && line.contains("status") == false && line.hasPrefix("context ") && line.contains("complete") {
                completed = (clock.now - start).seconds
            }
        }
        process.waitUntilExit()
        sampler.cancel()
        let peak = await sampler.value
        guard process.terminationStatus == 0, let completed else {
            throw ValidationError(
                "the local boot did not end all ok (status \(process.terminationStatus)):\n\(transcript.suffix(2_000))\(errors.quoted())"
            )
        }
        let runs = try image.checkRuns(nodes: count, state: work)
        return BenchResult(
            scenario: "local",
            parameters: ["nodes": count],
            figures: [
                "all_ok_s": completed, "peak_total_rss_mb": peak.rss, "peak_total_pss_mb": peak.pss, "scripts_run": Double(runs),
            ]
        )
    }

    /// Processes whose command line mentions `fragment`, and `pid`.
    static func processes(mentioning fragment: String, plus pid: pid_t) -> [pid_t] {
        var found = [pid]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let candidate = pid_t(entry), candidate != pid,
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(fragment)
            else { continue }
            found.append(candidate)
        }
        return found
    }
}
