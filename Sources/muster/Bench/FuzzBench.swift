import ArgumentParser
import Foundation
import MusterFuzz

/// `muster bench fuzz`: the fuzz targets of the test suite, run longer than `swift test` runs them.
struct FuzzBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Feed random and mutated inputs to the XML reader and the wire bodies; report what broke (exit 1 if anything did).",
        discussion: """
            The same targets as the MusterFuzzTests suite: cluster documents (generated, then mutated byte by \
            byte and token by token) and each JSON body an agent or operator sends. An input may be accepted or \
            refused; what counts as broken is an invariant of the target not holding (for documents: a refusal \
            without an error, a diagnostic outside the input; for bodies: the engine refusing or trapping on what \
            decoded). A crash ends the process: the target and seed printed last reproduce it.

            Examples:
              muster bench fuzz --iterations 100000
              muster bench fuzz --seed 7 --target cluster-document --json
            """
    )

    @Option(help: "Inputs per target.")
    var iterations = 20_000

    @Option(help: "The first seed (each target gets its own, counted from it).")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Only these targets, comma-separated.", valueName: "name[,name…]"))
    var target: String?

    @OptionGroup var output: BenchOutput

    static let targets: [any FuzzTarget] = [
        ClusterDocumentTarget(), WireBodyTarget.checkIn, WireBodyTarget.outputAppend, WireBodyTarget.scriptReport,
        WireBodyTarget.resultReport, WireBodyTarget.addNodes,
    ]

    func run() throws {
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
        let wanted = target.map { Set($0.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) }) }
        let chosen = Self.targets.filter { wanted?.contains($0.name) ?? true }
        if let wanted, chosen.count != wanted.count {
            let known = Self.targets.map(\.name).joined(separator: ", ")
            throw ValidationError("unknown target in --target \(wanted.sorted().joined(separator: ",")); the targets are \(known)")
        }
        var report = BenchReport(json: output.json)
        var broken = 0
        for (offset, target) in chosen.enumerated() {
            let seed = seed &+ UInt64(offset)
            BenchReport.progress("fuzz: \(target.name), \(iterations) inputs from seed \(seed)…")
            let clock = ContinuousClock()
            var result: FuzzReport?
            let elapsed = clock.measure { result = Fuzzer.run(target, iterations: iterations, seed: seed) }
            guard let result else { continue }
            broken += result.findings.count
            for finding in result.findings { Output.error("fuzz: \(target.name), seed \(seed): \(finding)") }
            report.add(
                BenchResult(
                    scenario: "fuzz-\(target.name)",
                    parameters: ["iterations": result.iterations, "seed": Int(truncatingIfNeeded: seed)],
                    figures: [
                        "accepted": Double(result.accepted), "rejected": Double(result.rejected),
                        "findings": Double(result.findings.count), "inputs_per_s": Double(result.iterations) / max(elapsed.seconds, 1e-9),
                    ]
                )
            )
        }
        report.printTable(columns: [
            ("accepted", "accepted", Figure.count), ("refused", "rejected", Figure.count), ("broken", "findings", Figure.count),
            ("inputs/s", "inputs_per_s", Figure.count),
        ])
        if broken > 0 { throw ExitCode(1) }
    }
}
