import Foundation

/// Which output stream a line of script output came from.
public enum OutputStream: String, Sendable, Hashable, Codable {
    /// Standard output.
    case stdout
    /// Standard error (the console marks these lines).
    case stderr
    /// A line the agent itself wrote (for example "running 1-ipandhost/rabbitmq-head").
    case agent
}

/// One line of a node's script output, as stored by the broker and shown by the console.
public struct OutputLine: Sendable, Hashable, Codable {
    /// The line's position in the node's output, from 0, across all its scripts (per slot generation).
    public var index: Int
    /// When the agent read the line.
    public var time: Date
    /// The script phase (0–5).
    public var phase: Int
    /// The script that printed it (relative to ctx-scripts), or a built-in step's name.
    public var script: String
    /// Which stream it came from.
    public var stream: OutputStream
    /// The text, without its line ending.
    public var text: String

    /// Creates an output line.
    public init(index: Int, time: Date, phase: Int, script: String, stream: OutputStream, text: String) {
        self.index = index
        self.time = time
        self.phase = phase
        self.script = script
        self.stream = stream
        self.text = text
    }
}
