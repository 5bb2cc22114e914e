/// Standard base64 (RFC 4648 section 4), decoded strictly: padding required, no whitespace, and unused bits
/// zero, so that every byte string has exactly one accepted spelling.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    /// The decoded bytes, or `nil` when `text` is not canonical padded base64.
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(text)
        guard !input.isEmpty, input.count % 4 == 0 else { return nil }
        let padding =
            input[input.count - 1] != UInt8(ascii: "=") ? 0 : input[input.count - 2] == UInt8(ascii: "=") ? 2 : 1
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let isLast = index + 4 == input.count
            var quad: UInt32 = 0
            for offset in 0..<4 {
                let byte = input[index + offset]
                if isLast && offset >= 4 - padding {
                    quad <<= 6
                    continue
                }
                let value = values[Int(byte)]
                guard value != 0xFF else { return nil }
                quad = quad << 6 | UInt32(value)
            }
            let chunk = [UInt8(quad >> 16), UInt8(quad >> 8 & 0xFF), UInt8(quad & 0xFF)]
            if isLast {
                // The bits the padding stands in for must be zero.
                if padding == 2 && quad & 0xFFFF != 0 || padding == 1 && quad & 0xFF != 0 { return nil }
                output += chunk.prefix(3 - padding)
            } else {
                output += chunk
            }
            index += 4
        }
        return output
    }

    /// Standard padded base64 of `bytes`.
    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var quad: UInt32 = 0
            for offset in 0..<3 { quad = quad << 8 | UInt32(offset < count ? bytes[index + offset] : 0) }
            for offset in 0..<4 {
                output.append(offset <= count ? alphabet[Int(quad >> (18 - 6 * offset) & 0x3F)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
