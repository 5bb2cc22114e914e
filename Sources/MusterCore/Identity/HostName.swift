/// The host name rule (RFC 1123 section 2.1, as RFC 3696 section 2 reads it) for what a node reports as its
/// fully qualified name.
///
/// The name is written into other nodes' `etc/hosts`, `etc/hosts.equiv` and `ssh_known_hosts`, where `+`
/// trusts every host, `*` and `?` are patterns, and whitespace or a newline starts another entry. A host name
/// is therefore only: dot-separated labels of 1–63 letters, digits and hyphens, no label starting or ending
/// with a hyphen, at most 253 bytes in all, and a last label that is not all digits (so that a name never
/// reads as an IPv4 address). A trailing dot (the DNS root) is refused: the same host would otherwise have two
/// spellings, and `hosts.equiv` and `known_hosts` compare names as text.
public enum HostName {
    /// The longest host name accepted, in bytes.
    public static let maximumLength = 253
    /// The longest label accepted, in bytes.
    public static let maximumLabelLength = 63

    /// Whether `text` is a host name by the rule above.
    public static func isValid(_ text: String) -> Bool { problem(in: text) == nil }

    /// Why `text` is not a host name (for a person), or `nil` when it is one.
    public static func problem(in text: String) -> String? {
        let shown = "'\(TerminalText.inert(TerminalText.truncated(text, to: 60)))'"
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return "it is empty; give the node's fully qualified host name" }
        guard bytes.count <= maximumLength else { return "\(shown) is longer than \(maximumLength) bytes" }
        if bytes.last == UInt8(ascii: ".") { return "\(shown) ends with '.'; give the name without the trailing dot" }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty else { return "\(shown) has an empty label (two dots in a row, or a leading dot)" }
            guard label.count <= maximumLabelLength else {
                return "\(shown) has a label longer than \(maximumLabelLength) bytes"
            }
            if let bad = label.first(where: { !isLabelByte($0) }) {
                return "\(shown) contains \(describe(bad)); a host name holds only letters, digits, '-' and '.'"
            }
            if label.first == UInt8(ascii: "-") || label.last == UInt8(ascii: "-") {
                return "\(shown) has a label that starts or ends with '-'"
            }
        }
        if labels.last!.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return "\(shown) ends in an all-numeric label, so it reads as an address, not a name"
        }
        return nil
    }

    /// A host name label made from any name (for example a node name such as `db_primary-0`): every byte that
    /// may not appear in a label becomes `-`, hyphens at either end are dropped, and the result is cut to 63
    /// bytes. An empty result becomes `node`.
    ///
    /// Launchers use it to derive host names from node names, which follow the wider ``SafeName`` rule. The label
    /// is meant to come first in a name, where an all-numeric label is allowed.
    public static func label(from name: String) -> String {
        var bytes = name.utf8.prefix(maximumLabelLength * 4).map { isLabelByte($0) ? $0 : UInt8(ascii: "-") }
        while bytes.first == UInt8(ascii: "-") { bytes.removeFirst() }
        bytes = Array(bytes.prefix(maximumLabelLength))
        while bytes.last == UInt8(ascii: "-") { bytes.removeLast() }
        return bytes.isEmpty ? "node" : String(decoding: bytes, as: UTF8.self)
    }

    private static func isLabelByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
    }

    private static func describe(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: " "): "a space"
        case 0x21..<0x7F: "'\(Character(Unicode.Scalar(byte)))'"
        case 0x80...: "a non-ASCII character"
        default: "a control character"
        }
    }
}
