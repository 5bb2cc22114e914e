import MusterCore

/// Lays a node's output lines out in screen rows: one row per line (cut with `…`), or wrapped.
///
/// Positions are absolute line positions (see ``RingBuffer``). Every function looks only at the lines that can
/// be on screen, so following a node with ten thousand lines of output costs no more than one with ten.
public struct OutputPane: Sendable {
    /// The columns before the text: phase digit and stream marker.
    public static let gutterWidth = 3
    /// Longer lines are cut before wrapping, so one enormous line cannot fill the pane alone.
    public static let longestLine = 4_096

    /// One screen row of output.
    public struct Row: Sendable, Hashable {
        /// The absolute position of the line.
        public var line: Int
        /// The part of the line on this row.
        public var text: String
        /// Whether this row starts the line (the gutter is drawn only there).
        public var isFirst: Bool
    }

    /// The lines.
    public let lines: RingBuffer<OutputLine>
    /// Columns for text (after the gutter).
    public let width: Int
    /// Whether long lines wrap.
    public let wrap: Bool

    /// Creates a pane.
    public init(lines: RingBuffer<OutputLine>, width: Int, wrap: Bool) {
        self.lines = lines
        self.width = max(1, width)
        self.wrap = wrap
    }

    /// The absolute position of the first line held.
    public var first: Int { lines.droppedCount }
    /// One past the absolute position of the last line.
    public var end: Int { lines.appendedCount }

    /// The rows of one line.
    public func segments(of line: OutputLine) -> [String] {
        let text = line.text.count > Self.longestLine ? String(line.text.prefix(Self.longestLine)) + "…" : line.text
        guard wrap else { return [text] }
        var segments: [String] = []
        var current = ""
        var used = 0
        for character in text {
            let columns = max(TextWidth.of(character), 0)
            if used + columns > width && !current.isEmpty {
                segments.append(current)
                current = ""
                used = 0
            }
            current.append(character)
            used += columns
        }
        segments.append(current)
        return segments
    }

    /// The rows from line `top`, at most `height` of them.
    public func rows(from top: Int, height: Int) -> [Row] {
        var rows: [Row] = []
        var position = max(top, first)
        while rows.count < height, position < end, let line = lines.element(atAbsolute: position) {
            for (offset, segment) in segments(of: line).enumerated() where rows.count < height {
                rows.append(Row(line: position, text: segment, isFirst: offset == 0))
            }
            position += 1
        }
        return rows
    }

    /// The top line that shows the last lines filling `height` rows (for follow mode).
    public func followTop(height: Int) -> Int {
        var used = 0
        var position = end
        while position > first, let line = lines.element(atAbsolute: position - 1) {
            let rows = wrap ? segments(of: line).count : 1
            if used + rows > height { break }
            used += rows
            position -= 1
        }
        return min(position, max(first, end - 1))
    }
}
