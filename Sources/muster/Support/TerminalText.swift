/// Text from nodes (output, identities, messages) made inert before it reaches the operator's terminal:
/// control characters and escape sequences are shown, not obeyed.
enum TerminalText {
    /// `text` with C0/C1 controls, DEL and bidirectional overrides written as visible escapes (`\x1b`, `\u{202e}`).
    static func inert(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value == 0x09 {
                result.append("\t")
            } else if value < 0x20 || value == 0x7F {
                result += "\\x" + hex(value, digits: 2)
            } else if (0x80..<0xA0).contains(value) || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value) {
                result += "\\u{" + hex(value, digits: 4) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
