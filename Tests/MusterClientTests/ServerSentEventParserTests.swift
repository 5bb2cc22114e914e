import MusterClient
import Testing

@Suite("Server-Sent Events parser")
struct ServerSentEventParserTests {
    private func parse(_ text: String) -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        return parser.feed(Array(text.utf8))
    }

    @Test("a message's id, event and data are read")
    func readsOneMessage() {
        #expect(parse("id: 7\nevent: node-state\ndata: {\"a\":1}\n\n") == [ServerSentEvent(event: "node-state", data: "{\"a\":1}", id: "7")])
    }

    @Test("a message without an event field is a `message`")
    func defaultEventName() {
        #expect(parse("data: x\n\n") == [ServerSentEvent(event: "message", data: "x", id: nil)])
    }

    @Test("several data lines join with a line feed")
    func multiLineData() {
        #expect(parse("data: first\ndata: second\ndata:\ndata: fourth\n\n").map(\.data) == ["first\nsecond\n\nfourth"])
    }

    @Test("comment lines such as the heartbeat produce nothing and do not split a message")
    func commentsAreSkipped() {
        #expect(parse(": heartbeat\n\n").isEmpty)
        #expect(parse("data: a\n: heartbeat\ndata: b\n\n").map(\.data) == ["a\nb"])
    }

    @Test("LF, CRLF and lone CR all end lines, even mixed in one stream")
    func lineEndings() {
        let lf = parse("id: 1\ndata: a\n\nid: 2\ndata: b\n\n")
        let crlf = parse("id: 1\r\ndata: a\r\n\r\nid: 2\r\ndata: b\r\n\r\n")
        let cr = parse("id: 1\rdata: a\r\rid: 2\rdata: b\r\r")
        let mixed = parse("id: 1\r\ndata: a\n\rid: 2\rdata: b\r\n\n")
        let expected = [ServerSentEvent(data: "a", id: "1"), ServerSentEvent(data: "b", id: "2")]
        #expect(lf == expected)
        #expect(crlf == expected)
        #expect(cr == expected)
        #expect(mixed == expected)
    }

    @Test("only the first space after the colon is removed; a line without a colon is a field with an empty value")
    func fieldValues() {
        #expect(parse("data:  two spaces\n\n").map(\.data) == [" two spaces"])
        #expect(parse("data:no space\n\n").map(\.data) == ["no space"])
        #expect(parse("data\n\n").map(\.data) == [""])
        #expect(parse("data: a: b\n\n").map(\.data) == ["a: b"])
    }

    @Test("a message with no data line is not dispatched, but its id still counts")
    func noDataNoMessage() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("id: 5\nevent: x\n\n".utf8)).isEmpty)
        #expect(parser.lastEventID == "5")
        #expect(parser.feed(Array("data: y\n\n".utf8)) == [ServerSentEvent(event: "message", data: "y", id: "5")])
    }

    @Test("an id lasts until the next one; an id containing NUL is ignored")
    func idPersists() {
        let messages = parse("id: 1\ndata: a\n\ndata: b\n\nid: 2\u{0}\ndata: c\n\nid\ndata: d\n\n")
        #expect(messages.map(\.id) == ["1", "1", "1", ""])
    }

    @Test("the event name does not carry over to the next message")
    func eventNameResets() {
        #expect(parse("event: a\ndata: 1\n\ndata: 2\n\n").map(\.event) == ["a", "message"])
    }

    @Test("retry with digits only sets the reconnection time; unknown fields are ignored")
    func retryAndUnknownFields() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("retry: 1500\nfoo: bar\ndata: x\n\nretry: 12a\n\n".utf8)).map(\.data) == ["x"])
        #expect(parser.retryMilliseconds == 1500)
    }

    @Test("a leading byte order mark is stripped")
    func byteOrderMark() {
        #expect(parse("\u{FEFF}data: x\n\n").map(\.data) == ["x"])
    }

    @Test("an unfinished message at the end of a chunk waits for the rest, and is never dispatched without its blank line")
    func incompleteMessage() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("id: 1\ndata: a\n".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)).map(\.data) == ["a"])
        #expect(parser.feed(Array("data: b".utf8)).isEmpty)
        #expect(parser.feed(Array("".utf8)).isEmpty)
    }

    @Test("non-ASCII text survives")
    func unicode() {
        #expect(parse("data: héllo ✓ 日本 🎉\n\n").map(\.data) == ["héllo ✓ 日本 🎉"])
    }

    /// A stream that exercises every rule, to split at every position.
    private static let stream =
        "\u{FEFF}: heartbeat\r\nid: 41\r\nevent: node-state\r\ndata: {\"text\":\"héllo ✓ 🎉\"}\r\n\r\n"
        + "data: one\ndata: two\n\n: heartbeat\n\rid: 42\revent: output\rdata: x\r\r"

    private static let expected = [
        ServerSentEvent(event: "node-state", data: "{\"text\":\"héllo ✓ 🎉\"}", id: "41"),
        ServerSentEvent(event: "message", data: "one\ntwo", id: "41"),
        ServerSentEvent(event: "output", data: "x", id: "42"),
    ]

    @Test("a stream split into two chunks at any byte gives the same messages (inside CRLF, a field, a UTF-8 character)")
    func everySplitPoint() {
        let bytes = Array(Self.stream.utf8)
        for split in 0...bytes.count {
            var parser = ServerSentEventParser()
            let messages = parser.feed(bytes[..<split]) + parser.feed(bytes[split...])
            #expect(messages == Self.expected, "split at byte \(split)")
        }
    }

    @Test("a stream fed one byte at a time gives the same messages")
    func byteByByte() {
        var parser = ServerSentEventParser()
        var messages: [ServerSentEvent] = []
        for byte in Self.stream.utf8 { messages += parser.feed(CollectionOfOne(byte)) }
        #expect(messages == Self.expected)
    }

    @Test("a stream cut into random chunks gives the same messages", arguments: 0..<20)
    func randomChunks(seed: UInt64) {
        var random = SplitMix(seed: seed)
        let bytes = Array(Self.stream.utf8)
        var parser = ServerSentEventParser()
        var messages: [ServerSentEvent] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + Int(random.next() % 7))
            messages += parser.feed(bytes[start..<end])
            start = end
        }
        #expect(messages == Self.expected)
    }
}

/// A small deterministic generator, so that a failing chunking can be replayed.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
