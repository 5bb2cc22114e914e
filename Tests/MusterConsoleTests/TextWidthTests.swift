import Testing

@testable import MusterConsole

/// The grid's fast paths must measure and draw exactly what the grapheme-by-grapheme path would.
@Suite("Text width and the grid's fast paths")
struct TextWidthTests {
    @Test(arguments: [
        ("━━··✓ → ★ ─ ●○◌ …", true, 17),
        ("café naïve", true, 10),
        ("e\u{301}", false, 1),  // a combining accent joins its letter: one grapheme, one column
        ("✅ ok", false, 5),  // an emoji picture takes two columns
        ("漢字", false, 4),
        ("a\u{200B}b", false, 2),  // a zero-width space takes none
    ])
    func `the width of console text, on the fast path or not`(text: String, simple: Bool, width: Int) {
        #expect(TextWidth.isSimpleNarrow(text) == simple)
        #expect(TextWidth.of(text) == width)
        var grid = CellGrid(size: ScreenSize(width: 40, height: 1))
        #expect(grid.draw(text, x: 0, y: 0, style: .text) == width, "the grid advances by the same columns")
    }
}
