/// Something a fuzzer feeds inputs to: a way to make fresh inputs, tokens for mutating them, and a check that
/// runs one input and says which of the target's invariants it broke.
///
/// A crash is the process dying; everything short of that is reported by ``check(_:)``.
public protocol FuzzTarget: Sendable {
    /// A short name for reports (`cluster-document`, `checkin`, …).
    var name: String { get }
    /// Tokens of the input language, for ``ByteMutator/Mutation/insertToken``.
    var dictionary: [String] { get }
    /// A fresh, mostly well-formed input.
    func generate(using random: inout SplitMix64) -> [UInt8]
    /// Runs one input and checks the invariants.
    func check(_ input: [UInt8]) -> FuzzOutcome
}

/// What one input did.
public struct FuzzOutcome: Sendable, Hashable {
    /// Whether the target accepted the input (a valid document, a decodable body).
    public var accepted: Bool
    /// The invariants it broke, one sentence each; empty when all held.
    public var violations: [String]

    /// Creates an outcome.
    public init(accepted: Bool, violations: [String] = []) {
        self.accepted = accepted
        self.violations = violations
    }
}

/// One input that broke an invariant.
public struct FuzzFinding: Sendable, Hashable, CustomStringConvertible {
    /// The iteration that found it.
    public var iteration: Int
    /// The input.
    public var input: [UInt8]
    /// What broke.
    public var violations: [String]

    public var description: String {
        let shown = String(decoding: input.prefix(200), as: UTF8.self)
        return "iteration \(iteration): \(violations.joined(separator: "; ")) — input (\(input.count) bytes): \(shown.debugDescription)"
    }
}

/// What a fuzz run found.
public struct FuzzReport: Sendable, CustomStringConvertible {
    /// The target's name.
    public var target: String
    /// The seed the run started from.
    public var seed: UInt64
    /// How many inputs ran.
    public var iterations = 0
    /// How many the target accepted.
    public var accepted = 0
    /// How many it refused (with diagnostics or an error).
    public var rejected = 0
    /// The inputs that broke an invariant (at most ``Fuzzer/maximumFindings``).
    public var findings: [FuzzFinding] = []

    public var description: String {
        "\(target) seed \(seed): \(iterations) inputs, \(accepted) accepted, \(rejected) refused, \(findings.count) broke an invariant"
    }
}

/// Runs a ``FuzzTarget`` for a number of iterations from a seed: a third fresh inputs, the rest mutations of
/// earlier ones (and of each other, by splicing). The same seed always runs the same inputs.
public enum Fuzzer {
    /// A run stops recording findings after this many (it keeps counting inputs).
    public static let maximumFindings = 20
    /// How many earlier inputs are kept to mutate.
    public static let corpusSize = 64

    /// Runs `target` on `iterations` inputs made from `seed`.
    public static func run(_ target: some FuzzTarget, iterations: Int, seed: UInt64) -> FuzzReport {
        var random = SplitMix64(seed: seed)
        let mutator = ByteMutator(dictionary: target.dictionary)
        var corpus: [[UInt8]] = []
        var report = FuzzReport(target: target.name, seed: seed)
        for iteration in 0..<iterations {
            let input: [UInt8]
            if corpus.isEmpty || Int.random(in: 0..<3, using: &random) == 0 {
                input = target.generate(using: &random)
                remember(input, in: &corpus, using: &random)
            } else {
                input = mutator.mutate(corpus.randomElement(using: &random)!, others: corpus, using: &random)
                if Int.random(in: 0..<4, using: &random) == 0 { remember(input, in: &corpus, using: &random) }
            }
            let outcome = target.check(input)
            report.iterations += 1
            if outcome.accepted { report.accepted += 1 } else { report.rejected += 1 }
            if !outcome.violations.isEmpty, report.findings.count < maximumFindings {
                report.findings.append(FuzzFinding(iteration: iteration, input: input, violations: outcome.violations))
            }
        }
        return report
    }

    private static func remember(_ input: [UInt8], in corpus: inout [[UInt8]], using random: inout SplitMix64) {
        if corpus.count < corpusSize {
            corpus.append(input)
        } else {
            corpus[Int.random(in: 0..<corpusSize, using: &random)] = input
        }
    }
}
