import Foundation

/// A body the broker can read without `JSONDecoder`: the ones every agent sends (check-ins, output, reports).
///
/// ``wireDecoded(from:)`` returns the value only when it is certain `JSONDecoder` (configured by
/// ``WireFormat/decoder()``) would decode the same value; for anything unusual — a malformed body, an escape it does
/// not read, a number that is not a plain integer, a date in another form, a key given twice — it returns `nil`
/// and the caller decodes with `JSONDecoder`, which also words the error. So it changes what a body costs, never
/// what a body means.
public protocol WireDecodable {
    /// The value `JSONDecoder` would decode from `bytes`, or `nil` to let it decide.
    static func wireDecoded(from bytes: [UInt8]) -> Self?
}

/// Reads the JSON of the agents' bodies straight from bytes (see ``WireDecodable``). Every method throws
/// ``Unsure`` where `JSONDecoder` might read the input differently.
struct WireJSONReader {
    /// The input is not one the reader is sure of.
    struct Unsure: Error {}

    private let bytes: [UInt8]
    private var position = 0
    /// Nesting depth, bounded so that a deep body cannot exhaust the stack.
    private var depth = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Reads a whole body: one value, then nothing but blanks.
    static func read<T>(_ bytes: [UInt8], _ body: (inout WireJSONReader) throws(Unsure) -> T) -> T? {
        var reader = WireJSONReader(bytes)
        do {
            let value = try body(&reader)
            reader.skipBlanks()
            return reader.position == bytes.count ? value : nil
        } catch {
            return nil
        }
    }

    private mutating func skipBlanks() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Unsure) {
        skipBlanks()
        guard position < bytes.count, bytes[position] == byte else { throw Unsure() }
        position += 1
    }

    private mutating func peek() throws(Unsure) -> UInt8 {
        skipBlanks()
        guard position < bytes.count else { throw Unsure() }
        return bytes[position]
    }

    // MARK: Structure

    /// Reads an object, calling `field` with each key (positioned at its value, which `field` must read or skip).
    /// A key given twice is refused: which one `JSONDecoder` keeps is not for this reader to guess.
    mutating func object(_ field: (inout WireJSONReader, String) throws(Unsure) -> Void) throws(Unsure) {
        try expect(UInt8(ascii: "{"))
        depth += 1
        guard depth <= 32 else { throw Unsure() }
        var keys: Set<String> = []
        if try peek() == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                let key = try string()
                guard keys.insert(key).inserted else { throw Unsure() }
                try expect(UInt8(ascii: ":"))
                try field(&self, key)
                let next = try peek()
                position += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { throw Unsure() }
            }
        }
        depth -= 1
    }

    /// Reads an array, calling `element` for each element.
    mutating func array(_ element: (inout WireJSONReader) throws(Unsure) -> Void) throws(Unsure) {
        try expect(UInt8(ascii: "["))
        depth += 1
        guard depth <= 32 else { throw Unsure() }
        if try peek() == UInt8(ascii: "]") {
            position += 1
        } else {
            while true {
                try element(&self)
                let next = try peek()
                position += 1
                if next == UInt8(ascii: "]") { break }
                guard next == UInt8(ascii: ",") else { throw Unsure() }
            }
        }
        depth -= 1
    }

    /// Whether the next value is `null` (read if so).
    mutating func null() throws(Unsure) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// Skips a value of any kind (a key the body's type does not have), checking it is well formed.
    mutating func skip() throws(Unsure) {
        switch try peek() {
        case UInt8(ascii: "{"): try object { reader, _ throws(Unsure) in try reader.skip() }
        case UInt8(ascii: "["): try array { reader throws(Unsure) in try reader.skip() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try int()
        }
    }

    private mutating func literal(_ text: StaticString) throws(Unsure) {
        skipBlanks()
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw Unsure() }
        for offset in 0..<count where bytes[position + offset] != text.utf8Start[offset] { throw Unsure() }
        position += count
    }

    // MARK: Values

    mutating func bool() throws(Unsure) -> Bool {
        if try peek() == UInt8(ascii: "t") {
            try literal("true")
            return true
        }
        try literal("false")
        return false
    }

    /// A plain integer (`-?[0-9]+`, no leading zero, within `Int`); any other number is left to `JSONDecoder`.
    mutating func int() throws(Unsure) -> Int {
        skipBlanks()
        let negative = position < bytes.count && bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        let start = position
        var value = 0
        while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
            let digit = Int(bytes[position] - UInt8(ascii: "0"))
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(digit)
            guard !overflow, !overflow2 else { throw Unsure() }
            value = sum
            position += 1
        }
        let digits = position - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { throw Unsure() }
        if position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): throw Unsure()
            default: break
            }
        }
        return negative ? -value : value
    }

    /// A string; escapes other than the two-character ones and `\u` of the Basic Multilingual Plane or a surrogate
    /// pair are left to `JSONDecoder`, as is invalid UTF-8.
    mutating func string() throws(Unsure) -> String {
        try expect(UInt8(ascii: "\""))
        let start = position
        // The common case: no escape at all.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                defer { position += 1 }
                return try Self.text(bytes[start..<position])
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw Unsure() }
            position += 1
        }
        var text = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return try Self.text(text[...])
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { throw Unsure() }
                let escaped = bytes[position]
                position += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        try literal("\\u")
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw Unsure() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw Unsure() }
                    text.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw Unsure()
                }
            default:
                guard byte >= 0x20 else { throw Unsure() }
                text.append(byte)
            }
        }
        throw Unsure()
    }

    private mutating func hex4() throws(Unsure) -> UInt32 {
        guard position + 4 <= bytes.count else { throw Unsure() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Unsure()
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private static func text(_ utf8: ArraySlice<UInt8>) throws(Unsure) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else { throw Unsure() }
        return text
    }

    /// A date as the wire writes it (`2026-11-25T20:00:52.123Z`, or without the fraction), years 1583–9999; any
    /// other form is left to `JSONDecoder`'s date parsing.
    mutating func date() throws(Unsure) -> Date {
        let text = Array(try string().utf8)
        guard text.count >= 20, text.count <= 30, text.last == UInt8(ascii: "Z") else { throw Unsure() }
        func number(_ range: Range<Int>) throws(Unsure) -> Int {
            var value = 0
            for index in range {
                let byte = text[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw Unsure() }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        for (index, separator) in [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")] where text[index] != UInt8(ascii: Unicode.Scalar(separator)!)
        {
            throw Unsure()
        }
        let (year, month, day) = (try number(0..<4), try number(5..<7), try number(8..<10))
        let (hour, minute, second) = (try number(11..<13), try number(14..<16), try number(17..<19))
        guard (1583...9999).contains(year), (1...12).contains(month), hour < 24, minute < 60, second < 60 else { throw Unsure() }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...monthDays[month - 1]).contains(day) else { throw Unsure() }
        var fraction = 0.0
        if text.count > 20 {
            guard text[19] == UInt8(ascii: "."), text.count > 21 else { throw Unsure() }
            let digits = text.count - 21
            fraction = Double(try number(20..<(20 + digits))) / pow(10, Double(digits))
        } else {
            guard text[19] == UInt8(ascii: "Z") else { throw Unsure() }
        }
        let days = WireTimestamp.days(year: year, month: month, day: day)
        let seconds = Double(days * 86_400 + hour * 3_600 + minute * 60 + second)
        return Date(timeIntervalSince1970: seconds + fraction)
    }
}

extension WireTimestamp {
    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
