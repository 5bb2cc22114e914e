/// One problem found in a cluster document, printed like a compiler does: `FILE:LINE:COL: error: MESSAGE`.
public struct Diagnostic: Sendable, Hashable, Codable {
    /// How serious a diagnostic is.
    public enum Severity: String, Sendable, Hashable, Codable, Comparable {
        /// The document cannot be used.
        case error
        /// The document can be used, but probably not as its author meant.
        case warning
        /// Extra context for the diagnostic before it (for example where a duplicate was first defined).
        case note

        private var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .note: 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    /// How serious the problem is.
    public var severity: Severity
    /// A stable, machine-readable identifier for the kind of problem (for example `unknown-role`).
    public var code: String
    /// What is wrong, and where possible what to do about it.
    public var message: String
    /// Where in the document the problem is.
    public var location: SourcePosition

    /// Creates a diagnostic.
    public init(_ severity: Severity, code: String, _ message: String, at location: SourcePosition) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
    }

    /// The diagnostic as one line, `FILE:LINE:COL: severity: message`.
    public func formatted(file: String) -> String {
        "\(file):\(location.line):\(location.column): \(severity.rawValue): \(message)"
    }
}

extension Array where Element == Diagnostic {
    /// Whether any diagnostic is an error.
    public var containsErrors: Bool { contains { $0.severity == .error } }
}
