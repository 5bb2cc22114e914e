/// Text from nodes (script output, messages, names) made safe to print on an operator's terminal.
///
/// A node controls what its scripts print. Printed as is, an escape sequence could recolour the terminal, move
/// the cursor to overwrite earlier lines, set the window title or, on some terminals, answer back; a carriage
/// return could hide what came before it on the line; a bidi override could make text read differently from
/// what it is ("Trojan Source"). ``inert(_:)`` keeps every such character visible as an escape and leaves all
/// other text, including non-Latin letters and emoji, exactly as it is.
///
/// The console draws its own cells and shows control characters as `?` (its grid has no room for escapes); the
/// CLI (`muster logs`, `muster status`) prints lines, where a spelled-out escape says more.
public enum TerminalText {
    /// `text` with every character a terminal would act on spelled out:
    ///
    /// - `\t`, `\n`, `\r` as those two-character escapes;
    /// - other C0 controls and DEL as `\xNN` (so ESC is `\x1b`);
    /// - C1 controls (U+0080–U+009F), the bidi embedding, override and isolate controls (U+202A–U+202E,
    ///   U+2066–U+2069), and the line and paragraph separators (U+2028, U+2029) as `\u{NNNN}`.
    ///
    /// Nothing else changes: a backslash stays a backslash, so the result is for reading, not for decoding.
    /// Text that needs no change is returned as is, without copying.
    public static func inert(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 >= 0x7F }) else { return text }
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                result += escape(scalar)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Whether ``inert(_:)`` would change `text`.
    public static func isInert(_ text: String) -> Bool { !text.unicodeScalars.contains(where: needsEscape) }

    /// `text` cut to at most `limit` characters, with `…` at the end when cut, for quoting untrusted text in
    /// a message.
    public static func truncated(_ text: String, to limit: Int) -> String {
        guard limit > 0 else { return "" }
        var end = text.startIndex
        var count = 0
        while end < text.endIndex, count < limit {
            end = text.index(after: end)
            count += 1
        }
        return end == text.endIndex ? text : String(text[..<end]) + "…"
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F..<0xA0, 0x2028...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    private static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x09: return "\\t"
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0..<0x20, 0x7F: return "\\x" + hex(scalar.value, width: 2)
        default: return "\\u{" + hex(scalar.value, width: 4) + "}"
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: value > 0x7F)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
