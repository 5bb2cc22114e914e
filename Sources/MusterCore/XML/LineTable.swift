/// Turns byte offsets in a document into 1-based line and column numbers.
///
/// Built once per document with one pass over the bytes. A lookup is a binary search for the line and a count
/// of Unicode scalars from the nearest checkpoint, not from the start of the line: a checkpoint every
/// ``checkpointStride`` bytes records how many scalars start before it, so a lookup reads at most that many
/// bytes however long the line is (a whole document on one line costs no more than a laid-out one).
struct LineTable: Sendable {
    /// Bytes between checkpoints: the most a lookup reads.
    static let checkpointStride = 64

    private let lineStarts: [Int]
    /// `scalarsBefore[k]`: how many scalars start before byte `k * checkpointStride`.
    private let scalarsBefore: [Int]
    private let bytes: [UInt8]
    /// Whether the document starts with a UTF-8 byte order mark (invisible to a reader, so not a column).
    private let hasBOM: Bool

    init(_ bytes: [UInt8]) {
        var starts = [0]
        starts.reserveCapacity(bytes.count / 32 + 1)
        var checkpoints: [Int] = []
        checkpoints.reserveCapacity(bytes.count / Self.checkpointStride + 1)
        var scalars = 0
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            while start < buffer.count {
                checkpoints.append(scalars)
                let end = min(start + Self.checkpointStride, buffer.count)
                for offset in start..<end {
                    let byte = buffer[offset]
                    if byte & 0xC0 != 0x80 { scalars += 1 }
                    if byte == UInt8(ascii: "\n") { starts.append(offset + 1) }
                }
                start = end
            }
        }
        checkpoints.append(scalars)
        self.lineStarts = starts
        self.scalarsBefore = checkpoints
        self.bytes = bytes
        self.hasBOM = bytes.starts(with: [0xEF, 0xBB, 0xBF])
    }

    /// The location of the byte at `offset` (an offset at the end of the input is allowed).
    func location(of offset: Int) -> SourcePosition {
        let offset = max(0, min(offset, bytes.count))
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        var column = scalars(before: offset) - scalars(before: lineStarts[low]) + 1
        if low == 0, hasBOM, offset >= 3 { column -= 1 }
        return SourcePosition(line: low + 1, column: column)
    }

    /// How many bytes a lookup of `offset` reads past its checkpoint: less than ``checkpointStride``, whatever
    /// the line's length (for tests of the lookup's cost).
    func bytesRead(toLocate offset: Int) -> Int {
        let offset = max(0, min(offset, bytes.count))
        return offset - offset / Self.checkpointStride * Self.checkpointStride
    }

    /// How many scalars start before byte `offset`: the checkpoint at or below it, plus at most a stride of bytes.
    func scalars(before offset: Int) -> Int {
        let checkpoint = offset / Self.checkpointStride
        var count = scalarsBefore[checkpoint]
        var index = checkpoint * Self.checkpointStride
        while index < offset {
            if bytes[index] & 0xC0 != 0x80 { count += 1 }
            index += 1
        }
        return count
    }
}
