import Foundation

/// How Muster's HTTP API encodes JSON, in one place so that the broker and every client agree.
///
/// Dates are ISO 8601 strings with milliseconds (`2026-11-25T20:00:52.123Z`); keys are sorted in output so
/// that responses are stable for people and tests.
public enum WireFormat {
    /// A new encoder configured for the wire.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        return encoder
    }

    /// A new decoder configured for the wire (it also accepts dates without fractional seconds).
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? timestampStyle.parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an ISO 8601 date")
        }
        return decoder
    }

    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// A date as the wire writes it: rounded to the nearest millisecond.
    ///
    /// The formatter truncates, and a date read from `….123Z` is a double a hair below .123 about half the time,
    /// so formatting it as is would write `….122Z`: every round trip could lose a millisecond. Writing the
    /// rounded millisecond plus a tenth of one (well above a double's error for any year up to 9999) makes
    /// encode → decode → encode give the same text.
    static func timestamp(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSinceReferenceDate * 1000).rounded()
        return Date(timeIntervalSinceReferenceDate: milliseconds / 1000 + 0.000_1).formatted(timestampStyle)
    }
}
