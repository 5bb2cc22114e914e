import MusterCore
import Testing

@Suite("Node text made inert for terminals")
struct TerminalTextTests {
    @Test(arguments: ["plain ASCII line", "", "Grüße aus Zürich", "日本語のテキスト", "emoji 🚀👩‍💻 ok", "a\\x1b literal backslash", "ZWJ 👨‍👩‍👧"])
    func `ordinary text is left exactly as it is`(text: String) {
        #expect(TerminalText.inert(text) == text)
        #expect(TerminalText.isInert(text))
    }

    @Test(arguments: [
        ("\u{1b}[31mred\u{1b}[0m", "\\x1b[31mred\\x1b[0m"),
        ("\u{1b}]0;title\u{07}", "\\x1b]0;title\\x07"),
        ("over\rwrite", "over\\rwrite"),
        ("two\nlines", "two\\nlines"),
        ("tab\there", "tab\\there"),
        ("nul\u{0}byte", "nul\\x00byte"),
        ("del\u{7F}", "del\\x7f"),
        ("csi\u{9B}31m", "csi\\u{009B}31m"),
        ("nel\u{85}", "nel\\u{0085}"),
        ("rlo\u{202E}txt.exe", "rlo\\u{202E}txt.exe"),
        ("isolates \u{2066}\u{2067}\u{2068}\u{2069}", "isolates \\u{2066}\\u{2067}\\u{2068}\\u{2069}"),
        ("embeds \u{202A}\u{202B}\u{202C}\u{202D}", "embeds \\u{202A}\\u{202B}\\u{202C}\\u{202D}"),
        ("separators \u{2028}\u{2029}", "separators \\u{2028}\\u{2029}"),
        ("crlf\r\n", "crlf\\r\\n"),
        ("é\u{1b}🚀", "é\\x1b🚀"),
    ])
    func `control, escape and bidi characters are spelled out`(text: String, expected: String) {
        #expect(TerminalText.inert(text) == expected)
        #expect(!TerminalText.isInert(text))
        #expect(TerminalText.isInert(TerminalText.inert(text)))
    }

    @Test func `every C0 and C1 control and DEL is made visible`() {
        for value in Array(0..<0x20) + Array(0x7F..<0xA0) {
            let scalar = Unicode.Scalar(UInt32(value))!
            let shown = TerminalText.inert(String(Character(scalar)))
            #expect(shown.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }, "U+\(value)")
            #expect(shown.hasPrefix("\\"))
        }
    }

    @Test func `text is cut to a limit with an ellipsis only when longer`() {
        #expect(TerminalText.truncated("abcdef", to: 3) == "abc…")
        #expect(TerminalText.truncated("abc", to: 3) == "abc")
        #expect(TerminalText.truncated("🚀🚀🚀🚀", to: 2) == "🚀🚀…")
    }
}
