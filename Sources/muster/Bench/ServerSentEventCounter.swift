#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts the events in a Server-Sent Events body without decoding them, and remembers the last event id (what a
/// reader resumes after): the event readers must measure the broker's fan-out, not the bench's JSON decoding.
///
/// An event is a block of lines ended by an empty line that has at least one `data` line (as the SSE standard
/// dispatches events); blocks without data (`retry:`, heartbeat comments) are not events. Lines end with LF
/// (a CR before it is ignored), as the broker writes them. Only the first bytes of each line are looked at.
struct ServerSentEventCounter {
    /// Events completed since the last ``takeEvents()``.
    private var events = 0
    /// The id of the last complete event that had one.
    private(set) var lastID: Int?
    /// The first bytes of the current line, enough to tell its field and read an `id`.
    private var line: [UInt8] = []
    private var lineLength = 0
    private var blockHasData = false
    private var blockID: Int?

    private static let keptBytes = 32

    init() {
        line.reserveCapacity(Self.keptBytes)
    }

    /// Reads a piece of the body (pieces may split lines anywhere). A line that lies whole in the piece is looked at
    /// where it is; only a line split between pieces is copied (its first bytes).
    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var index = 0
        while index < bytes.count {
            guard let found = memchr(base + index, Int32(UInt8(ascii: "\n")), bytes.count - index) else {
                keep(UnsafeRawBufferPointer(rebasing: bytes[index...]))
                return
            }
            let end = base.distance(to: UnsafeRawPointer(found))
            let piece = UnsafeRawBufferPointer(rebasing: bytes[index..<end])
            if lineLength == 0 {
                endLine(piece, length: piece.count)
            } else {
                keep(piece)
                let length = lineLength
                let kept = line
                kept.withUnsafeBytes { endLine($0, length: length) }
            }
            index = end + 1
        }
    }

    /// The events completed since the last call.
    mutating func takeEvents() -> Int {
        defer { events = 0 }
        return events
    }

    private mutating func keep(_ bytes: UnsafeRawBufferPointer) {
        lineLength += bytes.count
        let room = Self.keptBytes - line.count
        if room > 0 { line.append(contentsOf: bytes.prefix(room)) }
    }

    /// Ends a line of `length` bytes whose first bytes (all of them, or at least ``keptBytes``) are `start`.
    private mutating func endLine(_ start: UnsafeRawBufferPointer, length: Int) {
        var start = start
        var length = length
        if length > 0, start.count == length, start[length - 1] == UInt8(ascii: "\r") {
            start = UnsafeRawBufferPointer(rebasing: start[..<(length - 1)])
            length -= 1
        }
        if length == 0 {
            if blockHasData {
                events += 1
                if let blockID { lastID = blockID }
            }
            blockHasData = false
            blockID = nil
        } else if Self.isField(start, "data") {
            blockHasData = true
        } else if Self.isField(start, "id") {
            blockID = Self.number(UnsafeRawBufferPointer(rebasing: start.dropFirst(3)))
        }
        line.removeAll(keepingCapacity: true)
        lineLength = 0
    }

    /// Whether `line` is the field `name` (`name:` or `name` alone).
    private static func isField(_ line: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        let count = name.utf8CodeUnitCount
        guard line.count >= count, memcmp(line.baseAddress!, name.utf8Start, count) == 0 else { return false }
        return line.count == count || line[count] == UInt8(ascii: ":")
    }

    private static func number(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let digits = bytes.drop { $0 == UInt8(ascii: " ") }
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
}
