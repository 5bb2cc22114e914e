/// Why the broker's certificate authority cannot be created or loaded.
public struct CertificateAuthorityError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let text: String

        /// A file cannot be read, created or written.
        public static let storage = Code(text: "ca-storage")
        /// A stored key or certificate cannot be read as one, or they do not belong together.
        public static let corrupt = Code(text: "ca-corrupt")
        /// The server name is neither an IP address nor a DNS name.
        public static let badName = Code(text: "ca-bad-name")
        /// Signing failed.
        public static let signing = Code(text: "ca-signing")

        public var description: String { text }
    }

    /// What kind of failure.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
