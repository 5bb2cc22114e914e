import Testing

@testable import MusterAgent

@Suite("Line splitter")
struct LineSplitterTests {
    @Test("lines are cut at \\n across chunk boundaries; \\r\\n endings lose their \\r; the last line may be open")
    func splitsAcrossChunks() {
        var splitter = LineSplitter()
        #expect(splitter.append(Array("one\ntw".utf8)) == ["one"])
        #expect(splitter.append(Array("o\r\n\nthr".utf8)) == ["two", ""])
        #expect(splitter.append(Array("ee".utf8)) == [])
        #expect(splitter.finish() == "three")
        #expect(splitter.finish() == nil)
    }

    @Test("an over-long line arrives in pieces cut between characters, and bad UTF-8 is repaired")
    func longLinesAndBadBytes() {
        var splitter = LineSplitter(maximumLineBytes: 8)
        let pieces = splitter.append(Array("abcdefgé€xyz\n".utf8))
        #expect(pieces == ["abcdefg", "é€xyz"])
        #expect(pieces.joined() == "abcdefgé€xyz")
        #expect(splitter.append(Array("123456789".utf8)) == ["12345678"])
        #expect(splitter.finish() == "9")
        #expect(splitter.append([0x66, 0xFF, 0x67, 0x0A]) == ["f\u{FFFD}g"])
    }
}
