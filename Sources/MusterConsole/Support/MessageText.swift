import Foundation

/// A node's message (a failure's reason, often several lines of a script's output) made fit for the console:
/// one line for rows and dialogs, or wrapped lines for reading all of it. The cell grid would show a newline as
/// `?`.
public enum MessageText {
    /// The message on one line: line breaks become ` ⏎ ` (` | ` in ASCII), tabs a space.
    public static func oneLine(_ text: String, ascii: Bool = false) -> String {
        let lines = lines(of: text)
        return lines.joined(separator: ascii ? " | " : " ⏎ ")
    }

    /// The message's lines (line breaks of any kind; tabs become spaces; trailing empty lines dropped).
    public static func lines(of text: String) -> [String] {
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\t", with: "    ") }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// The message wrapped to `width` columns at spaces (a word longer than a line is cut), line breaks kept.
    public static func wrapped(_ text: String, width: Int) -> [String] {
        let width = max(1, width)
        var result: [String] = []
        for line in lines(of: text) {
            guard TextWidth.of(line) > width else {
                result.append(line)
                continue
            }
            var current = ""
            var used = 0
            for word in line.split(separator: " ", omittingEmptySubsequences: false) {
                let columns = TextWidth.of(word)
                if used > 0 && used + 1 + columns > width {
                    result.append(current)
                    current = ""
                    used = 0
                }
                if used > 0 {
                    current += " "
                    used += 1
                }
                for character in word {
                    let cell = max(TextWidth.of(character), 0)
                    if used + cell > width && used > 0 {
                        result.append(current)
                        current = ""
                        used = 0
                    }
                    current.append(character)
                    used += cell
                }
            }
            result.append(current)
        }
        return result
    }
}
