/// A streaming parser of HTTP/1.1 responses, as much as the load generator needs and no more: the status, the
/// body's framing (`Content-Length` or `Transfer-Encoding: chunked`), `Connection: close`, and the body bytes.
///
/// Bytes are fed as they arrive, in pieces of any size; the parser hands out the parts of each response in order
/// (head, body pieces, end) and then starts on the next response of the same connection. Other headers are
/// skipped unread. A response that is framed neither way has no body, which is right for the statuses that never
/// have one (1xx, 204, 304); any other such response is refused, since reading to the end of the connection is
/// never what the broker does.
struct LoadResponseParser {
    /// One part of a response.
    enum Part {
        /// The head: the status, the body's length when `Content-Length` gave it, and whether the server will
        /// close the connection after this response.
        case head(status: Int, contentLength: Int?, closes: Bool)
        /// A piece of the body (chunk framing removed), valid only during the call that hands it out.
        case body(UnsafeRawBufferPointer)
        /// The response is complete.
        case end
    }

    /// Why the bytes are not a response this parser reads.
    enum Failure: Error, Equatable {
        case malformedStatusLine
        case malformedHeader
        case malformedChunk
        case unframedBody(status: Int)
        case headTooLarge
    }

    /// The longest head (or chunk-size or trailer line) accepted.
    static let maximumHeadBytes = 64 * 1024

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
    }

    private var state = State.head
    /// The head, or the current chunk-size or trailer line, while it is incomplete.
    private var pending: [UInt8] = []

    /// Whether the parser is between responses (nothing of a next one read yet).
    var isIdle: Bool {
        if case .head = state { return pending.isEmpty }
        return false
    }

    /// Parses `bytes`, handing each part of each response to `part` as soon as it is read.
    mutating func parse(_ bytes: UnsafeRawBufferPointer, _ part: (Part) -> Void) throws(Failure) {
        var index = 0
        while index < bytes.count {
            switch state {
            case .head:
                index = try readHead(bytes, from: index, part)
            case .fixedBody(let remaining):
                let count = min(remaining, bytes.count - index)
                part(.body(UnsafeRawBufferPointer(rebasing: bytes[index..<index + count])))
                index += count
                if count == remaining {
                    state = .head
                    part(.end)
                } else {
                    state = .fixedBody(remaining: remaining - count)
                }
            case .chunkSize:
                guard let line = try readLine(bytes, from: &index) else { break }
                let size = try Self.chunkSize(line)
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let count = min(remaining, bytes.count - index)
                part(.body(UnsafeRawBufferPointer(rebasing: bytes[index..<index + count])))
                index += count
                state = count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - count)
            case .chunkDataEnd:
                guard let line = try readLine(bytes, from: &index) else { break }
                guard line.isEmpty else { throw .malformedChunk }
                state = .chunkSize
            case .trailers:
                guard let line = try readLine(bytes, from: &index) else { break }
                if line.isEmpty {
                    state = .head
                    part(.end)
                }
            }
        }
    }

    /// Reads head bytes from `start`; once the empty line that ends the head is in, hands out the head (and the
    /// end, for a response without a body) and moves on to the body. Returns the index after what it read.
    private mutating func readHead(_ bytes: UnsafeRawBufferPointer, from start: Int, _ part: (Part) -> Void) throws(Failure) -> Int {
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            pending.append(byte)
            guard byte == UInt8(ascii: "\n"), Self.endsHead(pending) else { continue }
            let head = try Self.head(pending)
            pending.removeAll(keepingCapacity: true)
            part(.head(status: head.status, contentLength: head.contentLength, closes: head.closes))
            if head.chunked {
                state = .chunkSize
            } else if let length = head.contentLength, length > 0 {
                state = .fixedBody(remaining: length)
            } else if head.contentLength != nil || Self.hasNoBody(head.status) {
                part(.end)
            } else {
                throw .unframedBody(status: head.status)
            }
            return index
        }
        guard pending.count <= Self.maximumHeadBytes else { throw .headTooLarge }
        return index
    }

    /// Reads up to and including the next line feed; returns the line without its CR LF, or `nil` if the line is
    /// not complete yet (its start is kept for the next bytes).
    private mutating func readLine(_ bytes: UnsafeRawBufferPointer, from index: inout Int) throws(Failure) -> [UInt8]? {
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\n") {
                var line = pending
                pending.removeAll(keepingCapacity: true)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return line
            }
            pending.append(byte)
        }
        guard pending.count <= Self.maximumHeadBytes else { throw .headTooLarge }
        return nil
    }

    private static func endsHead(_ bytes: [UInt8]) -> Bool {
        let count = bytes.count
        if count >= 2 && bytes[count - 2] == UInt8(ascii: "\n") { return true }
        return count >= 4 && bytes[count - 2] == UInt8(ascii: "\r") && bytes[count - 3] == UInt8(ascii: "\n")
    }

    private static func hasNoBody(_ status: Int) -> Bool { (100..<200).contains(status) || status == 204 || status == 304 }

    private struct Head {
        var status: Int
        var contentLength: Int?
        var chunked = false
        var closes = false
    }

    /// The fields of a complete head (status line and header lines).
    private static func head(_ bytes: [UInt8]) throws(Failure) -> Head {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let statusLine = lines.first else { throw .malformedStatusLine }
        var head = Head(status: try status(statusLine))
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .malformedHeader }
            let name = line[line.startIndex..<colon]
            let value = trimmed(line[(colon + 1)...])
            if matches(name, "content-length") {
                guard let length = decimal(value) else { throw .malformedHeader }
                head.contentLength = length
            } else if matches(name, "transfer-encoding") {
                head.chunked = contains(value, "chunked")
            } else if matches(name, "connection") {
                head.closes = contains(value, "close")
            }
        }
        return head
    }

    /// The status code of a status line, `HTTP/1.x NNN reason`.
    private static func status(_ line: ArraySlice<UInt8>) throws(Failure) -> Int {
        let prefix = Array("HTTP/1.".utf8)
        guard line.count >= 12, line.prefix(prefix.count).elementsEqual(prefix), line[line.startIndex + 8] == UInt8(ascii: " "),
            let code = decimal(line[(line.startIndex + 9)..<(line.startIndex + 12)]), code >= 100
        else { throw .malformedStatusLine }
        return code
    }

    /// The size of a chunk from its size line (hex digits, then optional extensions after `;`).
    private static func chunkSize(_ line: [UInt8]) throws(Failure) -> Int {
        var size = 0
        var digits = 0
        for byte in line {
            let digit: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(byte - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                guard digits > 0 else { throw .malformedChunk }
                return size
            default: throw .malformedChunk
            }
            digits += 1
            guard digits <= 15 else { throw .malformedChunk }
            size = size * 16 + digit
        }
        guard digits > 0 else { throw .malformedChunk }
        return size
    }

    private static func decimal(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return [] }
        return bytes[first...last]
    }

    /// Whether `bytes` is `name` (lowercase ASCII), ignoring case.
    private static func matches(_ bytes: ArraySlice<UInt8>, _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount else { return false }
        return name.withUTF8Buffer { name in zip(bytes, name).allSatisfy { lowercased($0) == $1 } }
    }

    /// Whether the comma-separated `value` has the token `token` (lowercase ASCII), ignoring case.
    private static func contains(_ value: ArraySlice<UInt8>, _ token: StaticString) -> Bool {
        value.split(separator: UInt8(ascii: ",")).contains { matches(trimmed($0), token) }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }
}
