import Foundation

/// Short human durations for narrow columns: `42s`, `3m04s`, `42m`, `3h12m`, `2d03h`.
///
/// The resolution drops as durations grow, so an idle screen of long-finished nodes changes at most once a
/// minute.
public enum DurationText {
    /// The duration between two times (negative spans count as zero).
    public static func between(_ start: Date, _ end: Date) -> String {
        format(end.timeIntervalSince(start))
    }

    /// A number of seconds as short text.
    public static func format(_ seconds: TimeInterval) -> String {
        let total = max(0, Int(seconds.rounded(.down)))
        switch total {
        case ..<60: return "\(total)s"
        case ..<600: return "\(total / 60)m\(twoDigits(total % 60))s"
        case ..<3600: return "\(total / 60)m"
        case ..<86_400: return "\(total / 3600)h\(twoDigits(total / 60 % 60))m"
        default: return "\(total / 86_400)d\(twoDigits(total / 3600 % 24))h"
        }
    }

    /// A script's run time with tenths under ten seconds: `0.2s`, `3.4s`, `12s`, `3m04s`.
    public static func precise(_ seconds: TimeInterval) -> String {
        if seconds < 10 {
            let tenths = Int((max(0, seconds) * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)s"
        }
        return format(seconds)
    }

    /// A wall-clock time of day, `HH:MM:SS`, in the time zone passed in (pure code reads no zone of its own).
    public static func clock(_ date: Date, in timeZone: TimeZone) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) + timeZone.secondsFromGMT(for: date)
        let day = ((seconds % 86_400) + 86_400) % 86_400
        return "\(twoDigits(day / 3600)):\(twoDigits(day / 60 % 60)):\(twoDigits(day % 60))"
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
