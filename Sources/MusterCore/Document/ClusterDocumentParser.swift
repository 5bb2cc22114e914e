/// What reading a cluster document found: the document when it is usable, and every diagnostic.
public struct ClusterDocumentCheck: Sendable {
    /// The document, or `nil` when any diagnostic is an error.
    public var document: ClusterDocument?
    /// The problems found, in document order: at most ``ClusterDocumentParser/diagnosticLimit`` errors and as
    /// many warnings, then a note for each severity that had more.
    public var diagnostics: [Diagnostic]

    /// Whether the document can be used (no errors; warnings allowed).
    public var isValid: Bool { document != nil }
}

/// A cluster document that could not be used, with every reason.
public struct InvalidClusterDocument: Error, Sendable, CustomStringConvertible {
    /// The diagnostics; at least one is an error.
    public var diagnostics: [Diagnostic]

    public var description: String {
        diagnostics.filter { $0.severity == .error }.map { "\($0.location): \($0.message)" }.joined(separator: "\n")
    }
}

/// Reads and validates cluster documents.
///
/// ```swift
/// let check = ClusterDocumentParser.parse(Array(xmlData))
/// for diagnostic in check.diagnostics { print(diagnostic.formatted(file: "cluster.xml")) }
/// ```
public enum ClusterDocumentParser {
    /// The largest document accepted, in bytes. Cluster documents are small; this bounds memory on bad input.
    public static let maximumSize = 32 * 1024 * 1024

    /// At most this many errors, and this many warnings, are reported per document; a note says how many more
    /// there were.
    public static let diagnosticLimit = DiagnosticCollector.defaultLimit

    /// Reads, decodes and validates a document, reporting every problem it can find in one pass.
    ///
    /// Malformed XML stops at the first syntax error (nothing after it can be trusted); every other problem is
    /// reported, one diagnostic each, in document order, up to ``diagnosticLimit`` errors and as many warnings.
    /// The work is linear in the document's size however it is laid out (one line or many).
    public static func parse(_ bytes: [UInt8]) -> ClusterDocumentCheck {
        if bytes.count > maximumSize {
            let diagnostic = Diagnostic(
                .error,
                code: "too-large",
                "the document is \(bytes.count) bytes; at most \(maximumSize) are accepted",
                at: SourcePosition(line: 1, column: 1)
            )
            return ClusterDocumentCheck(document: nil, diagnostics: [diagnostic])
        }
        let xml: XMLTree
        switch XMLReader.parse(bytes) {
        case .success(let document): xml = document
        case .failure(let error):
            return ClusterDocumentCheck(
                document: nil,
                diagnostics: [Diagnostic(.error, code: error.code, error.message, at: error.location)]
            )
        }
        var decoder = ClusterDocumentDecoder(xml, collector: DiagnosticCollector(limit: diagnosticLimit))
        let (document, map) = decoder.decode()
        var collector = decoder.collector
        ClusterValidator.validate(document, map: map, into: &collector)
        let diagnostics = collector.diagnostics(lines: xml.lines)
        return ClusterDocumentCheck(document: collector.errorCount > 0 ? nil : document, diagnostics: diagnostics)
    }

    /// Parses a document or throws every reason it cannot be used.
    public static func document(from bytes: [UInt8]) throws(InvalidClusterDocument) -> ClusterDocument {
        let check = parse(bytes)
        guard let document = check.document else { throw InvalidClusterDocument(diagnostics: check.diagnostics) }
        return document
    }
}
