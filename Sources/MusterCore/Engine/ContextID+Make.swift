extension ContextID {
    /// The suffix widths tried, in hexadecimal digits: short ids while they are free, longer ones when a name
    /// has been used so often that its short ids run out.
    public static let suffixWidths = [4, 8, 16]
    /// How many random suffixes of each width are tried before the next width.
    public static let attemptsPerWidth = 16

    /// A new, readable context id: the name's ``slug(for:)``, a dash and random hexadecimal digits (`cpe-3f9a`).
    ///
    /// Tries ``attemptsPerWidth`` random 4-digit suffixes, then as many 8-digit and 16-digit ones, so it asks
    /// `isTaken` at most `suffixWidths.count × attemptsPerWidth` times and always returns: even with every 4-digit
    /// id of a name taken, an 8-digit one is found at once.
    ///
    /// - Parameters:
    ///   - name: The context's human name.
    ///   - isTaken: Whether an id is in use.
    ///   - generator: The source of randomness (a seeded one in tests).
    /// - Returns: A free id, or `nil` when every id tried was taken (with a real broker, practically never:
    ///   the last width alone has 2^64 ids).
    public static func make(
        name: String,
        isTaken: (ContextID) -> Bool,
        using generator: inout some RandomNumberGenerator
    ) -> ContextID? {
        let slug = slug(for: name)
        for width in suffixWidths {
            let mask: UInt64 = width >= 16 ? .max : (1 << UInt64(4 * width)) - 1
            for _ in 0..<attemptsPerWidth {
                let digits = String(generator.next() & mask, radix: 16)
                let id = ContextID("\(slug)-\(String(repeating: "0", count: width - digits.count))\(digits)")
                if !isTaken(id) { return id }
            }
        }
        return nil
    }

    /// A name as the first part of a context id: lowercase ASCII letters and digits, every other run of
    /// characters one `-`, no dash at either end, at most 24 characters; `cluster` when nothing is left.
    ///
    /// Context ids appear in host names (`<node>.<context>.muster.local` on the local launcher), so a slug is
    /// always a valid host name label.
    public static func slug(for name: String) -> String {
        var slug: [UInt8] = []
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): slug.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): slug.append(byte | 0x20)
            default: if !slug.isEmpty && slug.last != UInt8(ascii: "-") { slug.append(UInt8(ascii: "-")) }
            }
            if slug.count > 24 { break }
        }
        slug = Array(slug.prefix(24))
        while slug.last == UInt8(ascii: "-") { slug.removeLast() }
        return slug.isEmpty ? "cluster" : String(decoding: slug, as: UTF8.self)
    }
}
