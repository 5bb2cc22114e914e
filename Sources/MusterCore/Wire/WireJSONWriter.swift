import Foundation

/// Writes JSON straight into a byte buffer, byte for byte as ``WireFormat/encoder()`` writes it: keys in the order
/// the caller gives (callers give them sorted, as `.sortedKeys` sorts them: by their UTF-8 bytes), strings escaped
/// as Foundation escapes them (`/` left alone), numbers and dates in the same text.
///
/// It is for the broker's hot paths, where Foundation's `JSONEncoder` (a tree of boxed values built, sorted and
/// serialized per value) cost more CPU than the rest of the request. Types written with it are tested against
/// `JSONEncoder` for byte equality, so the two can be used interchangeably.
///
/// ```swift
/// var json = WireJSONWriter()
/// json.beginObject()
/// json.key("node"); json.string("web-0")
/// json.key("ready"); json.int(3)
/// json.endObject()
/// // json.bytes == Array(#"{"node":"web-0","ready":3}"#.utf8)
/// ```
public struct WireJSONWriter: Sendable {
    /// What was written so far.
    public private(set) var bytes: [UInt8] = []
    /// Whether the value about to be written is the first of its object or array (no comma before it).
    private var first = true

    /// Creates a writer, reserving `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    // MARK: Structure

    /// Starts an object (`{`).
    public mutating func beginObject() {
        comma()
        bytes.append(UInt8(ascii: "{"))
        first = true
    }

    /// Ends an object (`}`).
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        first = false
    }

    /// Starts an array (`[`).
    public mutating func beginArray() {
        comma()
        bytes.append(UInt8(ascii: "["))
        first = true
    }

    /// Ends an array (`]`).
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        first = false
    }

    /// Writes an object key; the value written next is its value. `name` must need no escaping.
    public mutating func key(_ name: StaticString) {
        comma()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        first = true
    }

    /// Writes an object key from a string (escaped like any string); the value written next is its value.
    public mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
        first = true
    }

    /// Appends JSON that is already encoded (one whole value).
    public mutating func raw(_ json: some Sequence<UInt8>) {
        comma()
        bytes.append(contentsOf: json)
    }

    private mutating func comma() {
        if first {
            first = false
        } else {
            bytes.append(UInt8(ascii: ","))
        }
    }

    // MARK: Values

    /// Writes a string, escaped as Foundation's encoder escapes it.
    public mutating func string(_ value: String) {
        comma()
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if start < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index])) }
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0xF)])
                }
            }
            if start < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Writes an integer.
    public mutating func int(_ value: some BinaryInteger) {
        comma()
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Writes a boolean.
    public mutating func bool(_ value: Bool) {
        comma()
        bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)

    /// Writes a finite double as Foundation does (its shortest text, without a trailing `.0`); `false` (and nothing
    /// written) for a NaN or an infinity, which JSON cannot hold.
    @discardableResult
    public mutating func double(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        comma()
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
        return true
    }

    /// Writes a date as the wire does (see ``WireFormat/timestamp(_:)``); `false` (and nothing written) for a date
    /// outside the years 1583–9999, left to Foundation's formatter (which counts days before the Gregorian reform
    /// of 1582 in the Julian calendar).
    @discardableResult
    public mutating func timestamp(_ date: Date) -> Bool {
        guard let text = WireTimestamp.bytes(date) else { return false }
        comma()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: text)
        bytes.append(UInt8(ascii: "\""))
        return true
    }
}

/// The wire's date text (`2026-11-25T20:00:52.123Z`), computed with integer arithmetic instead of a formatter.
enum WireTimestamp {
    /// Milliseconds from 1970 to the reference date (2001-01-01).
    private static let referenceMilliseconds: Int64 = 978_307_200_000

    /// The date's text, rounded to the nearest millisecond; nil outside the years 1583–9999.
    static func bytes(_ date: Date) -> [UInt8]? {
        let milliseconds = (date.timeIntervalSinceReferenceDate * 1000).rounded()
        guard milliseconds.magnitude < 1e15 else { return nil }
        let unix = Int64(milliseconds) + referenceMilliseconds
        let (days, dayMilliseconds) = floorDivision(unix, 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        guard (1583...9999).contains(year) else { return nil }
        let second = dayMilliseconds / 1000
        var text = [UInt8]()
        text.reserveCapacity(24)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            var value = value
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(value / divisor))
                value %= divisor
                divisor /= 10
            }
        }
        digits(year, 4)
        text.append(UInt8(ascii: "-"))
        digits(month, 2)
        text.append(UInt8(ascii: "-"))
        digits(day, 2)
        text.append(UInt8(ascii: "T"))
        digits(second / 3600, 2)
        text.append(UInt8(ascii: ":"))
        digits(second / 60 % 60, 2)
        text.append(UInt8(ascii: ":"))
        digits(second % 60, 2)
        text.append(UInt8(ascii: "."))
        digits(dayMilliseconds % 1000, 3)
        text.append(UInt8(ascii: "Z"))
        return text
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
