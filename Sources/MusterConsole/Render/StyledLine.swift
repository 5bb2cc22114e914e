/// A line of text made of styled spans, drawn left to right and clipped at the edge.
public struct StyledLine: Sendable, Hashable {
    /// One span.
    public struct Span: Sendable, Hashable {
        /// The text.
        public var text: String
        /// Its style.
        public var style: StyleRole
    }

    /// The spans in order.
    public private(set) var spans: [Span] = []

    /// Creates an empty line.
    public init() {}

    /// Creates a line of one span.
    public init(_ text: String, _ style: StyleRole = .text) {
        add(text, style)
    }

    /// Appends a span.
    public mutating func add(_ text: String, _ style: StyleRole = .text) {
        guard !text.isEmpty else { return }
        spans.append(Span(text: text, style: style))
    }

    /// The columns the line takes.
    public var width: Int { spans.reduce(0) { $0 + TextWidth.of($1.text) } }

    /// The plain text.
    public var text: String { spans.map(\.text).joined() }
}

extension CellGrid {
    /// Draws a styled line at `x`, `y`, at most `width` columns, then fills the rest of those columns with
    /// blanks in `fill` style (nil: leave them).
    mutating func draw(_ line: StyledLine, x: Int, y: Int, width: Int, fill: StyleRole? = .text) {
        var column = x
        let end = x + width
        for span in line.spans where column < end {
            let remaining = end - column
            let text = TextWidth.of(span.text) > remaining ? span.text.truncated(toWidth: remaining) : span.text
            column = draw(text, x: column, y: y, style: span.style, limit: remaining)
        }
        if let fill, column < end { draw(String(repeating: " ", count: end - column), x: column, y: y, style: fill) }
    }
}
