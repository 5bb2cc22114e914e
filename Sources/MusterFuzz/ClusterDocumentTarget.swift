import MusterCore

/// Fuzzes the XML reader and the cluster document decoder and validator together
/// (``MusterCore/ClusterDocumentParser/parse(_:)``).
///
/// Invariants: at most ``MusterCore/ClusterDocumentParser/diagnosticLimit`` errors and as many warnings, plus at
/// most one summary note each; every position inside the input; diagnostics in document order; messages inert
/// for terminals; a document exactly when there is no error; and a valid document's names all
/// ``MusterCore/SafeName``s, its NIC names distinct, its quantities in range, its required roles provided. The
/// same input parses to the same result twice.
public struct ClusterDocumentTarget: FuzzTarget {
    public let name = "cluster-document"
    public let dictionary = ClusterDocumentGenerator.dictionary
    private let generator = ClusterDocumentGenerator()

    /// Creates the target.
    public init() {}

    public func generate(using random: inout SplitMix64) -> [UInt8] { generator.generate(using: &random) }

    public func check(_ input: [UInt8]) -> FuzzOutcome {
        let check = ClusterDocumentParser.parse(input)
        var violations: [String] = []
        let diagnostics = check.diagnostics
        let limit = ClusterDocumentParser.diagnosticLimit
        let summaries = diagnostics.filter { $0.code == "more-diagnostics" }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.filter { $0.severity == .warning }.count
        if errors > limit || warnings > limit || summaries.count > 2 {
            violations.append("\(errors) errors, \(warnings) warnings and \(summaries.count) summaries exceed the cap")
        }
        if check.isValid == diagnostics.containsErrors { violations.append("validity disagrees with the errors") }
        let lines = Self.lineLengths(input)
        for diagnostic in diagnostics {
            let position = diagnostic.location
            if position.line < 1 || position.line > lines.count || position.column < 1 || position.column > lines[position.line - 1] + 1 {
                violations.append("\(diagnostic.code) at \(position) is outside the input")
            }
            if !TerminalText.isInert(diagnostic.message) { violations.append("\(diagnostic.code)'s message holds control characters") }
        }
        let ordered = diagnostics.filter { $0.severity != .note }.map(\.location)
        if ordered != ordered.sorted() { violations.append("diagnostics are not in document order") }
        if let document = check.document { violations += Self.documentViolations(document) }
        if ClusterDocumentParser.parse(input).diagnostics != diagnostics { violations.append("a second parse differs") }
        return FuzzOutcome(accepted: check.isValid, violations: violations)
    }

    /// The length in Unicode scalars of each line, as ``MusterCore/SourcePosition`` counts columns.
    static func lineLengths(_ input: [UInt8]) -> [Int] {
        var lengths = [0]
        let bom = input.starts(with: [0xEF, 0xBB, 0xBF])
        for (offset, byte) in input.enumerated() {
            if byte == UInt8(ascii: "\n") {
                lengths.append(0)
            } else if byte & 0xC0 != 0x80, !(bom && offset < 3) {
                lengths[lengths.count - 1] += 1
            }
        }
        return lengths
    }

    private static func documentViolations(_ document: ClusterDocument) -> [String] {
        var violations: [String] = []
        let provided = Set(document.workspaces.flatMap { $0.provides.roles.map(\.name) })
        for workspace in document.workspaces {
            var names = [workspace.name] + workspace.provides.roles.map(\.name) + workspace.requires.roles.map(\.name)
            names += workspace.requires.data.map(\.name) + workspace.nics.map(\.label)
            for name in names where !SafeName.isValid(name) { violations.append("valid document holds unsafe name \(name.debugDescription)") }
            if Set(workspace.nics.map(\.label)).count != workspace.nics.count { violations.append("NIC names repeat in '\(workspace.name)'") }
            if workspace.nics.isEmpty { violations.append("workspace '\(workspace.name)' has no NIC") }
            if !(1...32_767).contains(workspace.quantity) { violations.append("quantity \(workspace.quantity) out of range") }
            for role in workspace.requires.roles where !provided.contains(role.name) {
                violations.append("required role '\(role.name)' is not provided")
            }
        }
        if Set(document.workspaces.map(\.name)).count != document.workspaces.count { violations.append("workspace names repeat") }
        return violations
    }
}
