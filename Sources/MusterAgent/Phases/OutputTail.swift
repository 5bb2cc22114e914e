import MusterCore

/// The last lines a script printed, for the message of a failed node.
///
/// Each line is cut to ``maximumLineCharacters``, so that the message (and the report that carries it) stays
/// well below the broker's 64 KiB limit for a report however long the lines were: the whole lines are in the
/// node's output.
struct OutputTail {
    /// The longest line quoted, in characters.
    static let maximumLineCharacters = 256
    /// How many lines are kept.
    let capacity: Int
    private var lines: [ScriptOutputLine] = []
    private var dropped = 0

    init(capacity: Int = 20) {
        self.capacity = capacity
    }

    mutating func append(_ line: ScriptOutputLine) {
        guard line.stream != .agent else { return }
        var line = line
        line.text = TerminalText.truncated(line.text, to: Self.maximumLineCharacters)
        lines.append(line)
        if lines.count > capacity {
            lines.removeFirst()
            dropped += 1
        }
    }

    /// "last N lines of output:" and the lines, indented, stderr lines marked; or a note that there was none.
    var text: String {
        guard !lines.isEmpty else { return "no output" }
        let heading = dropped > 0 ? "last \(Plural.count(lines.count, "line")) of output:" : "output:"
        let body = lines.map { line in line.stream == .stderr ? "  [stderr] \(line.text)" : "  \(line.text)" }
        return ([heading] + body).joined(separator: "\n")
    }
}
