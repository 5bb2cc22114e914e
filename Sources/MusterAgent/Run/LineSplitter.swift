/// Cuts a byte stream into text lines as the bytes arrive.
///
/// A line ends at `\n` (a `\r` before it is dropped); the last line need not end with one. Bytes that are not
/// UTF-8 are repaired (U+FFFD), and a line longer than ``maximumLineBytes`` is delivered in pieces of at most
/// that size, cut between characters, so a script that prints without line breaks cannot grow the agent's
/// memory without bound.
struct LineSplitter {
    /// The longest piece delivered as one line.
    let maximumLineBytes: Int
    private var pending: [UInt8] = []

    init(maximumLineBytes: Int = 16 * 1024) {
        precondition(maximumLineBytes >= 4, "a line must hold at least one character")
        self.maximumLineBytes = maximumLineBytes
    }

    /// The complete lines that `bytes` finishes.
    mutating func append(_ bytes: some Sequence<UInt8>) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(Self.text(pending))
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                if pending.count > maximumLineBytes { lines.append(cutLongLine()) }
            }
        }
        return lines
    }

    /// The last, unterminated line, if any; the splitter is empty afterwards.
    mutating func finish() -> String? {
        guard !pending.isEmpty else { return nil }
        defer { pending.removeAll() }
        return Self.text(pending)
    }

    /// Takes the first piece of an over-long line, ending before a UTF-8 continuation byte.
    private mutating func cutLongLine() -> String {
        var cut = maximumLineBytes
        while cut > 0 && pending[cut] & 0b1100_0000 == 0b1000_0000 { cut -= 1 }
        if cut == 0 { cut = maximumLineBytes }
        defer { pending.removeFirst(cut) }
        return String(decoding: pending[..<cut], as: UTF8.self)
    }

    private static func text(_ bytes: [UInt8]) -> String {
        let line = bytes.last == UInt8(ascii: "\r") ? bytes.dropLast() : bytes[...]
        return String(decoding: line, as: UTF8.self)
    }
}
