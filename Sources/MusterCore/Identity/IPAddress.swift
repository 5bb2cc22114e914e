/// An IPv4 or IPv6 address literal, parsed strictly: what a node may report as the address of a NIC.
///
/// The address is written into other nodes' `etc/hosts` and `ssh_known_hosts`, so only the plain literal forms
/// are accepted: IPv4 as four decimal numbers 0–255 without leading zeros (`10.0.0.7`; `010.0.0.7` would be
/// octal to some resolvers), IPv6 as RFC 4291 text (`fe80::1`, `::ffff:192.0.2.1`). No zone id (`%eth0`), no
/// brackets, no whitespace, no host names, no shortened IPv4 forms (`10.1`).
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family.
    public enum Family: Sendable, Hashable {
        /// IPv4 (4 bytes).
        case v4
        /// IPv6 (16 bytes).
        case v6
    }

    /// The family.
    public let family: Family
    /// The address in network byte order (4 or 16 bytes).
    public let bytes: [UInt8]
    /// The literal as written.
    public let text: String

    /// Parses a literal; `nil` when `text` is not exactly one IPv4 or IPv6 address literal.
    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        if let bytes = Self.parseIPv4(utf8[...]) {
            family = .v4
            self.bytes = bytes
        } else if let bytes = Self.parseIPv6(utf8[...]) {
            family = .v6
            self.bytes = bytes
        } else {
            return nil
        }
        self.text = text
    }

    public var description: String { text }

    /// Why `text` is not an address literal (for a person), or `nil` when it is one.
    public static func problem(in text: String) -> String? {
        if IPAddress(text) != nil { return nil }
        let shown = "'\(TerminalText.inert(TerminalText.truncated(text, to: 60)))'"
        if text.isEmpty { return "it is empty; give the NIC's IPv4 or IPv6 address" }
        if text.contains("%") { return "\(shown) has a zone id; give the address without '%…'" }
        if text.hasPrefix("[") { return "\(shown) is in brackets; give the bare address" }
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }) {
            return "\(shown) contains whitespace or a control character"
        }
        return "\(shown) is not an IPv4 (a.b.c.d) or IPv6 address literal"
    }

    // MARK: Parsing

    /// The longest IPv6 literal (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`).
    private static let maximumIPv6Length = 45

    /// `a.b.c.d`, each 0–255 in decimal without leading zeros.
    static func parseIPv4(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count >= 7, text.count <= 15 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(4)
        var value = 0
        var digits = 0
        var leadingZero = false
        for byte in text {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, result.count < 3 else { return nil }
                result.append(UInt8(value))
                value = 0
                digits = 0
                leadingZero = false
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            guard !leadingZero else { return nil }
            if digits == 0 && byte == UInt8(ascii: "0") { leadingZero = true }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
            guard digits <= 3, value <= 255 else { return nil }
        }
        guard digits > 0, result.count == 3 else { return nil }
        result.append(UInt8(value))
        return result
    }

    /// RFC 4291 section 2.2: eight groups of 1–4 hex digits, at most one `::`, optionally ending in an IPv4
    /// dotted quad that stands for the last two groups.
    static func parseIPv6(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count >= 2, text.count <= maximumIPv6Length else { return nil }
        var gap: Int?
        var index = text.startIndex
        while index + 1 < text.endIndex {
            if text[index] == UInt8(ascii: ":") && text[index + 1] == UInt8(ascii: ":") {
                guard gap == nil else { return nil }
                gap = index
                index += 2
            } else {
                index += 1
            }
        }
        if let gap {
            guard let head = groups(text[text.startIndex..<gap], mayEndInIPv4: false),
                let tail = groups(text[(gap + 2)..<text.endIndex], mayEndInIPv4: true),
                head.count + tail.count <= 7
            else { return nil }
            return bytes(head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail)
        }
        guard let all = groups(text, mayEndInIPv4: true), all.count == 8 else { return nil }
        return bytes(all)
    }

    /// The 16-bit groups of a colon-separated run (empty for an empty run, which only `::` may border).
    private static func groups(_ text: ArraySlice<UInt8>, mayEndInIPv4: Bool) -> [UInt16]? {
        guard !text.isEmpty else { return [] }
        var result: [UInt16] = []
        let parts = text.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        for (offset, part) in parts.enumerated() {
            if part.contains(UInt8(ascii: ".")) {
                guard mayEndInIPv4, offset == parts.count - 1, let quad = parseIPv4(part) else { return nil }
                result.append(UInt16(quad[0]) << 8 | UInt16(quad[1]))
                result.append(UInt16(quad[2]) << 8 | UInt16(quad[3]))
                continue
            }
            guard (1...4).contains(part.count) else { return nil }
            var value: UInt16 = 0
            for byte in part {
                guard let digit = hexValue(byte) else { return nil }
                value = value << 4 | UInt16(digit)
            }
            result.append(value)
        }
        return result
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func bytes(_ groups: [UInt16]) -> [UInt8] {
        groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}
