/// The SSH wire encoding (RFC 4251 §5) used inside OpenSSH key files: big-endian `uint32`s and
/// length-prefixed `string`s.
enum SSHWire {
    /// The bytes of a `uint32`.
    static func uint32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// The bytes of a `string`: its length as a `uint32`, then its bytes.
    static func string(_ bytes: some Collection<UInt8>) -> [UInt8] { uint32(UInt32(bytes.count)) + bytes }

    /// The bytes of a `string` holding UTF-8 text.
    static func string(_ text: String) -> [UInt8] { string(Array(text.utf8)) }

    /// Malformed wire data.
    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads values in order from wire bytes.
    struct Reader {
        private let bytes: [UInt8]
        private var offset = 0

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
        }

        /// Whether every byte was read.
        var isAtEnd: Bool { offset == bytes.count }

        /// The bytes not read yet.
        var remaining: ArraySlice<UInt8> { bytes[offset...] }

        mutating func bytes(_ count: Int) throws(FormatError) -> [UInt8] {
            guard count >= 0, bytes.count - offset >= count else { throw FormatError(description: "truncated data") }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }

        mutating func uint32() throws(FormatError) -> UInt32 {
            try bytes(4).reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func string() throws(FormatError) -> [UInt8] { try bytes(Int(uint32())) }

        mutating func text() throws(FormatError) -> String { String(decoding: try string(), as: UTF8.self) }
    }
}
