/// Mutates byte strings the way coverage-blind fuzzers do: flip bits, overwrite bytes with boundary values,
/// cut, splice two inputs, duplicate or delete a chunk, and insert tokens of the input's language.
///
/// Every mutation keeps the result at most ``maximumLength`` bytes, so a run's memory stays bounded.
public struct ByteMutator: Sendable {
    /// One kind of change.
    public enum Mutation: CaseIterable, Sendable {
        /// Flip one bit.
        case flipBit
        /// Overwrite a byte with a boundary value (0, 0x7F, 0x80, 0xFF, a quote, a `<`, …).
        case interestingByte
        /// Cut the input at a random point.
        case truncate
        /// Join the head of the input to the tail of another one.
        case splice
        /// Repeat a chunk in place (several times).
        case duplicateChunk
        /// Remove a chunk.
        case deleteChunk
        /// Insert a token of the input's language (`<![CDATA[`, `9223372036854775808`, …).
        case insertToken
        /// Insert random bytes.
        case insertRandom
    }

    /// The longest result.
    public let maximumLength: Int
    /// Tokens for ``Mutation/insertToken``.
    public let dictionary: [[UInt8]]

    /// Creates a mutator with a dictionary of tokens.
    public init(dictionary: [String], maximumLength: Int = 64 * 1024) {
        self.dictionary = dictionary.map { Array($0.utf8) }
        self.maximumLength = maximumLength
    }

    private static let interesting: [UInt8] = [
        0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1B, 0x20, 0x22, 0x26, 0x27, 0x2F, 0x3C, 0x3E, 0x5C, 0x7F, 0x80, 0xC0, 0xFF,
    ]

    /// `input` changed by one to four mutations; `others` are candidates for splicing.
    public func mutate(_ input: [UInt8], others: [[UInt8]], using random: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            bytes = apply(Mutation.allCases.randomElement(using: &random)!, to: bytes, others: others, using: &random)
        }
        return bytes.count > maximumLength ? Array(bytes.prefix(maximumLength)) : bytes
    }

    /// `bytes` changed by one mutation of the given kind.
    public func apply(_ mutation: Mutation, to bytes: [UInt8], others: [[UInt8]], using random: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes = bytes
        switch mutation {
        case .flipBit:
            guard !bytes.isEmpty else { return [UInt8.random(in: 0...255, using: &random)] }
            let index = Int.random(in: 0..<bytes.count, using: &random)
            bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        case .interestingByte:
            guard !bytes.isEmpty else { return [Self.interesting.randomElement(using: &random)!] }
            bytes[Int.random(in: 0..<bytes.count, using: &random)] = Self.interesting.randomElement(using: &random)!
        case .truncate:
            bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
        case .splice:
            guard let other = others.randomElement(using: &random) else { return bytes }
            let head = Int.random(in: 0...bytes.count, using: &random)
            let tail = Int.random(in: 0...other.count, using: &random)
            bytes = Array(bytes[..<head]) + Array(other[tail...])
        case .duplicateChunk:
            guard !bytes.isEmpty else { return bytes }
            let (start, end) = chunk(in: bytes.count, using: &random)
            let copies = Int.random(in: 1...(Bool.random(using: &random) ? 2 : 64), using: &random)
            let piece = Array(bytes[start..<end])
            let room = max(0, maximumLength - bytes.count) / max(1, piece.count)
            bytes.insert(contentsOf: Array([[UInt8]](repeating: piece, count: min(copies, room)).joined()), at: end)
        case .deleteChunk:
            guard !bytes.isEmpty else { return bytes }
            let (start, end) = chunk(in: bytes.count, using: &random)
            bytes.removeSubrange(start..<end)
        case .insertToken:
            guard let token = dictionary.randomElement(using: &random) else { return bytes }
            bytes.insert(contentsOf: token, at: Int.random(in: 0...bytes.count, using: &random))
        case .insertRandom:
            let count = Int.random(in: 1...8, using: &random)
            let noise = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            bytes.insert(contentsOf: noise, at: Int.random(in: 0...bytes.count, using: &random))
        }
        return bytes
    }

    /// A random non-empty range of at most 64 bytes within `count`.
    private func chunk(in count: Int, using random: inout some RandomNumberGenerator) -> (Int, Int) {
        let start = Int.random(in: 0..<count, using: &random)
        let length = Int.random(in: 1...min(64, count - start), using: &random)
        return (start, start + length)
    }
}
