/// A name that is safe to use as one path component or script name: the one rule for every name in a cluster
/// document that an agent or launcher turns into a file name (workspace, role, data and NIC names, and the
/// local launcher's image names).
///
/// In the spirit of swift-system's `FilePath.Component`, a `SafeName` is checked once, where it enters, and can
/// then be joined to a folder without further thought: it holds no separator, is never `.` or `..`, cannot be
/// mistaken for a command-line option or a hidden file, and has no character a shell, a terminal or a file
/// system treats specially.
///
/// The rule: 1 to ``maximumLength`` bytes, each one of `A–Z a–z 0–9 . _ + @ -`, not starting with `.` or `-`.
/// Every name in the Nimbus sample documents fits it.
public struct SafeName: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The longest name accepted, in bytes.
    public static let maximumLength = 128

    /// The validated name.
    public let rawValue: String

    /// Validates `text` as a name.
    ///
    /// - Throws: ``SafeNameError`` saying what is wrong, so a caller can name the field in its own words.
    public init(_ text: String) throws(SafeNameError) {
        if let problem = Self.problem(in: text) { throw problem }
        rawValue = text
    }

    /// Validates `text` as a name, or returns `nil`.
    public init?(validating text: String) {
        guard Self.problem(in: text) == nil else { return nil }
        rawValue = text
    }

    /// Whether `text` follows the rule.
    public static func isValid(_ text: some StringProtocol) -> Bool { problem(in: text) == nil }

    /// What is wrong with `text` as a name, or `nil` when it follows the rule.
    public static func problem(in text: some StringProtocol) -> SafeNameError? {
        let bytes = text.utf8
        guard let first = bytes.first else { return SafeNameError(.empty, text: "") }
        guard bytes.count <= maximumLength else { return SafeNameError(.tooLong, text: String(text)) }
        if first == UInt8(ascii: ".") || first == UInt8(ascii: "-") { return SafeNameError(.badStart, text: String(text)) }
        for byte in bytes where !isAllowed(byte) {
            return SafeNameError(.badCharacter, text: String(text), character: byte)
        }
        return nil
    }

    /// Whether a byte may appear in a name.
    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "@"), UInt8(ascii: "-"): true
        default: false
        }
    }

    public var description: String { rawValue }

    public static func < (lhs: SafeName, rhs: SafeName) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message(for: "name"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Why a text is not a ``SafeName``.
public struct SafeNameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem.
    public enum Code: String, Sendable, Hashable {
        /// The name is empty.
        case empty = "empty-name"
        /// The name is longer than ``SafeName/maximumLength`` bytes.
        case tooLong = "name-too-long"
        /// The name starts with `.` or `-`.
        case badStart = "name-bad-start"
        /// The name holds a character outside `A–Z a–z 0–9 . _ + @ -`.
        case badCharacter = "name-bad-character"
    }

    /// The kind of problem.
    public var code: Code
    /// The refused text, made inert for terminals and cut to a readable length.
    public var text: String
    /// For ``Code/badCharacter``: the first refused byte.
    public var character: UInt8?

    init(_ code: Code, text: String, character: UInt8? = nil) {
        self.code = code
        self.text = TerminalText.inert(TerminalText.truncated(text, to: 60))
        self.character = character
    }

    /// A sentence for a person that names the field (`what`, for example "role name") and what to do.
    public func message(for what: String) -> String {
        let rule = "use 1–\(SafeName.maximumLength) of A–Z a–z 0–9 . _ + @ -, not starting with '.' or '-'"
        switch code {
        case .empty:
            return "\(what) is empty; \(rule)"
        case .tooLong:
            return "\(what) '\(text)' is longer than \(SafeName.maximumLength) bytes; agents use it as a file name"
        case .badStart:
            return "\(what) '\(text)' starts with '\(text.first.map(String.init) ?? "")'; it becomes a file name, so \(rule)"
        case .badCharacter:
            let shown = character.map(Self.describe) ?? "a character"
            return "\(what) '\(text)' contains \(shown); it becomes a file name, so \(rule)"
        }
    }

    public var description: String { "\(code.rawValue): \(message(for: "name"))" }

    private static func describe(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "/"): "'/'"
        case UInt8(ascii: " "): "a space"
        case 0x21..<0x7F: "'\(Character(Unicode.Scalar(byte)))'"
        case 0x80...: "a non-ASCII character"
        default: "a control character"
        }
    }
}
