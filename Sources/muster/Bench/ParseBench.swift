import ArgumentParser
import Foundation
import MusterCore

struct ParseBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Validate a generated cluster document of N workspaces (target: 10,000 in ≤ 200 ms)."
    )

    @Option(help: ArgumentHelp("Workspace counts, comma-separated.", valueName: "n[,n…]"))
    var workspaces = "100,1000,10000"

    @Option(help: "Runs per size (the median is reported).")
    var runs = 7

    @OptionGroup var output: BenchOutput

    func run() throws {
        var report = BenchReport(json: output.json)
        for count in try BenchSizes.parse(workspaces, name: "--workspaces") {
            BenchReport.progress("parse: \(count) workspaces…")
            let bytes = Array(ScaledCluster.manyWorkspaces(count).utf8)
            var samples = Samples()
            var valid = false
            for _ in 0..<max(1, runs) {
                let clock = ContinuousClock()
                var check: ClusterDocumentCheck?
                let elapsed = clock.measure { check = ClusterDocumentParser.parse(bytes) }
                valid = check?.isValid ?? false
                samples.add(elapsed.seconds * 1_000)
            }
            guard valid else { throw ValidationError("the generated document is invalid") }
            report.add(
                BenchResult(
                    scenario: "parse",
                    parameters: ["workspaces": count, "bytes": bytes.count],
                    figures: [
                        "median_ms": samples.percentile(50), "min_ms": samples.minimum, "max_ms": samples.maximum,
                        "mb_per_s": Double(bytes.count) / samples.percentile(50) / 1_000,
                    ]
                )
            )
        }
        report.printTable(columns: [
            ("median", "median_ms", Figure.milliseconds), ("fastest", "min_ms", Figure.milliseconds), ("max", "max_ms", Figure.milliseconds),
            ("MB/s", "mb_per_s", Figure.ratio),
        ])
    }
}

/// `100,1000,10000` → [100, 1000, 10000].
enum BenchSizes {
    static func parse(_ text: String, name: String) throws -> [Int] {
        let sizes = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 1 }) else { throw ValidationError("\(name) takes positive whole numbers, comma-separated") }
        return sizes
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
