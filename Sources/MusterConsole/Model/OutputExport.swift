import Foundation
import MusterCore

/// A node's output as a text file: one line per output line, stderr and agent lines marked.
public enum OutputExport {
    /// The file contents for the lines held.
    public static func text(node: String, lines: RingBuffer<OutputLine>) -> String {
        var text = "# output of \(node)"
        if lines.droppedCount > 0 { text += " (the first \(Plural.count(lines.droppedCount, "line was", plural: "lines were")) dropped)" }
        text += "\n"
        for line in lines {
            let marker =
                switch line.stream {
                case .stdout: " "
                case .stderr: "!"
                case .agent: ">"
                }
            text += "\(line.phase)\(marker) [\(line.script)] \(line.text)\n"
        }
        return text
    }
}
