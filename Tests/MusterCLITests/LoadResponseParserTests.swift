import Testing

@testable import muster

/// The load generator's response parser and event counter read what the broker writes, in pieces of any size.
@Suite("load generator's HTTP parsing")
struct LoadResponseParserTests {
    /// One parsed response: its head's fields, its body, and whether its end was seen.
    struct Parsed: Equatable {
        var status: Int
        var contentLength: Int?
        var closes: Bool
        var body: String = ""
        var ended = false
    }

    /// Parses `text` fed in pieces of `piece` bytes (0: all at once).
    static func parse(_ text: String, piece: Int = 0) throws -> [Parsed] {
        var parser = LoadResponseParser()
        var parsed: [Parsed] = []
        var body: [UInt8] = []
        let bytes = Array(text.utf8)
        let size = piece > 0 ? piece : max(1, bytes.count)
        for start in stride(from: 0, to: bytes.count, by: size) {
            try bytes[start..<min(bytes.count, start + size)].withUnsafeBytes { chunk in
                try parser.parse(chunk) { part in
                    switch part {
                    case .head(let status, let contentLength, let closes):
                        parsed.append(Parsed(status: status, contentLength: contentLength, closes: closes))
                        body = []
                    case .body(let piece):
                        body += piece
                    case .end:
                        parsed[parsed.count - 1].body = String(decoding: body, as: UTF8.self)
                        parsed[parsed.count - 1].ended = true
                    }
                }
            }
        }
        #expect(parser.isIdle)
        return parsed
    }

    static let answer = """
        HTTP/1.1 200 OK\r
        Content-Type: application/json; charset=utf-8\r
        Content-Length: 17\r
        Date: Thu, 03 Dec 2026 09:14:21 GMT\r
        Server: muster-broker\r
        \r
        {"released":true}
        """

    @Test(arguments: [0, 1, 2, 7, 64])
    func `a Content-Length response, whole or split anywhere`(piece: Int) throws {
        let parsed = try Self.parse(Self.answer, piece: piece)
        #expect(parsed == [Parsed(status: 200, contentLength: 17, closes: false, body: #"{"released":true}"#, ended: true)])
    }

    @Test(arguments: [0, 1, 3, 10])
    func `a chunked response with extensions and trailers, then a second response on the same connection`(piece: Int) throws {
        let text =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n"
            + "5\r\nhello\r\n7;name=value\r\n, world\r\n0\r\nTrailer: x\r\n\r\n"
            + "HTTP/1.1 409 Conflict\r\ncontent-length: 2\r\nconnection: keep-alive, Close\r\n\r\n{}"
        let parsed = try Self.parse(text, piece: piece)
        #expect(
            parsed == [
                Parsed(status: 200, contentLength: nil, closes: false, body: "hello, world", ended: true),
                Parsed(status: 409, contentLength: 2, closes: true, body: "{}", ended: true),
            ]
        )
    }

    @Test func `responses without a body end at their head`() throws {
        let text = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        #expect(
            try Self.parse(text) == [
                Parsed(status: 204, contentLength: nil, closes: false, ended: true),
                Parsed(status: 200, contentLength: 0, closes: false, ended: true),
            ]
        )
    }

    @Test(arguments: [
        ("HTTP/2 200 OK\r\n\r\n", LoadResponseParser.Failure.malformedStatusLine),
        ("HTTP/1.1 2x0 OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", .malformedHeader),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", .malformedHeader),
        ("HTTP/1.1 200 OK\r\n\r\n", .unframedBody(status: 200)),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .malformedChunk),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", .malformedChunk),
    ])
    func `what is not a response it reads is refused`(text: String, failure: LoadResponseParser.Failure) {
        #expect(throws: failure) { try Self.parse(text) }
    }

    @Test func `a head that never ends is refused`() {
        var parser = LoadResponseParser()
        let line = Array("X-Filler: \(String(repeating: "a", count: 1_000))\r\n".utf8)
        #expect(throws: LoadResponseParser.Failure.headTooLarge) {
            try Array("HTTP/1.1 200 OK\r\n".utf8).withUnsafeBytes { try parser.parse($0) { _ in } }
            for _ in 0..<100 { try line.withUnsafeBytes { try parser.parse($0) { _ in } } }
        }
    }

    @Test(arguments: [0, 1, 5])
    func `the event counter counts blocks with data and remembers the last id`(piece: Int) {
        let body =
            "retry: 1000\n\n: heartbeat\n\n"
            + "id: 1\nevent: context-created\ndata: {\"sequence\":1}\n\n"
            + "id: 2\r\nevent: node-state\r\ndata: {\"sequence\":2,\"text\":\"\(String(repeating: "x", count: 100))\"}\r\n\r\n"
            + "data\n\n"
            + "id: 4\nevent: partial\ndata: {"
        var counter = ServerSentEventCounter()
        var events = 0
        let bytes = Array(body.utf8)
        let size = piece > 0 ? piece : bytes.count
        for start in stride(from: 0, to: bytes.count, by: size) {
            bytes[start..<min(bytes.count, start + size)].withUnsafeBytes { counter.feed($0) }
            events += counter.takeEvents()
        }
        #expect(events == 3, "two events with ids and one with data alone; the last is not complete")
        #expect(counter.lastID == 2)
    }
}
