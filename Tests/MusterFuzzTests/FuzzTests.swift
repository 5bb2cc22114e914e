import Foundation
import MusterCore
import MusterFuzz
import Testing

/// Thousands of random and mutated inputs per run, from fixed seeds: every input must either be accepted or
/// refused with diagnostics or an error, and what comes out must keep each target's invariants. A crash fails
/// the run by ending the process.
@Suite("Fuzzing the Core's parsers", .serialized)
struct FuzzTests {
    private func expectClean(_ report: FuzzReport, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(report.findings.isEmpty, "\(report)\n\(report.findings.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
        #expect(report.accepted + report.rejected == report.iterations, sourceLocation: sourceLocation)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func `cluster documents keep their invariants under random and mutated input`(seed: UInt64) async {
        let report = await onOwnThread { Fuzzer.run(ClusterDocumentTarget(), iterations: 1_500, seed: seed) }
        expectClean(report)
        // The generator makes both sides: some documents must get through, many must not.
        #expect(report.accepted > 20, "\(report)")
        #expect(report.rejected > 500, "\(report)")
    }

    @Test func `check-in bodies keep their invariants`() async {
        let report = await onOwnThread { Fuzzer.run(WireBodyTarget.checkIn, iterations: 3_000, seed: 11) }
        expectClean(report)
        #expect(report.accepted > 100 && report.rejected > 100, "\(report)")
    }

    @Test func `output append bodies keep their invariants`() async {
        let report = await onOwnThread { Fuzzer.run(WireBodyTarget.outputAppend, iterations: 2_000, seed: 12) }
        expectClean(report)
        #expect(report.accepted > 50 && report.rejected > 100, "\(report)")
    }

    @Test func `script and result reports keep their invariants`() async {
        let scripts = await onOwnThread { Fuzzer.run(WireBodyTarget.scriptReport, iterations: 2_000, seed: 13) }
        let results = await onOwnThread { Fuzzer.run(WireBodyTarget.resultReport, iterations: 2_000, seed: 14) }
        expectClean(scripts)
        expectClean(results)
        #expect(scripts.accepted > 50 && results.accepted > 50, "\(scripts) \(results)")
    }

    @Test func `add-node bodies never make the engine trap, whatever the count`() async {
        let report = await onOwnThread { Fuzzer.run(WireBodyTarget.addNodes, iterations: 2_000, seed: 15) }
        expectClean(report)
        #expect(report.accepted > 50, "\(report)")
    }

    @Test(arguments: [
        "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e309", "-1e309", "1.5", "\"1\"", "null", "[]",
    ])
    func `an out-of-range or mistyped count is refused, not trapped on`(count: String) {
        let outcome = WireBodyTarget.addNodes.check(Array("{\"count\":\(count)}".utf8))
        #expect(!outcome.accepted)
        #expect(outcome.violations.isEmpty)
    }

    @Test func `the largest count decodes and the engine refuses it`() {
        let outcome = WireBodyTarget.addNodes.check(Array("{\"count\":9223372036854775807}".utf8))
        #expect(outcome.accepted)
        #expect(outcome.violations.isEmpty)
    }

    @Test func `deeply nested JSON is refused`() {
        let body = "{\"identities\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        let outcome = WireBodyTarget.checkIn.check(Array(body.utf8))
        #expect(!outcome.accepted)
        #expect(outcome.violations.isEmpty)
    }

    @Test func `deeply nested XML is refused at the depth limit`() {
        let depth = XMLReader.maximumDepth + 10
        let xml = "<cluster>" + String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth) + "</cluster>"
        let check = ClusterDocumentParser.parse(Array(xml.utf8))
        #expect(check.diagnostics.map(\.code) == ["too-deep"])
        #expect(ClusterDocumentTarget().check(Array(xml.utf8)).violations.isEmpty)
    }

    @Test func `the same seed runs the same inputs`() async {
        let first = await onOwnThread { Fuzzer.run(ClusterDocumentTarget(), iterations: 200, seed: 99) }
        let second = await onOwnThread { Fuzzer.run(ClusterDocumentTarget(), iterations: 200, seed: 99) }
        #expect((first.accepted, first.rejected) == (second.accepted, second.rejected))
    }

    @Test func `a broken invariant is reported with its input`() async {
        struct Broken: FuzzTarget {
            let name = "broken"
            let dictionary = ["x"]
            func generate(using random: inout SplitMix64) -> [UInt8] { [UInt8(truncatingIfNeeded: random.next())] }
            func check(_ input: [UInt8]) -> FuzzOutcome { FuzzOutcome(accepted: true, violations: (input.first ?? 0) < 128 ? ["small"] : []) }
        }
        let report = await onOwnThread { Fuzzer.run(Broken(), iterations: 100, seed: 1) }
        #expect(!report.findings.isEmpty)
        #expect(report.findings.count <= Fuzzer.maximumFindings)
        #expect(report.findings[0].violations == ["small"])
    }

    @Test func `mutated inputs stay within the length limit`() {
        let mutator = ByteMutator(dictionary: ["<![CDATA[", String(repeating: "x", count: 100)], maximumLength: 256)
        var random = SplitMix64(seed: 5)
        var input = Array("<cluster><workspace/></cluster>".utf8)
        var lengths: Set<Int> = []
        for _ in 0..<2_000 {
            input = mutator.mutate(input, others: [input], using: &random)
            lengths.insert(input.count)
            #expect(input.count <= mutator.maximumLength)
        }
        #expect(lengths.count > 20)
    }
}
