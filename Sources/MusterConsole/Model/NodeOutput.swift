import MusterCore

/// The last lines of one attempt of a node's script output, bounded so a chatty script cannot exhaust memory.
public struct NodeOutput: Sendable {
    /// The attempt (slot generation, from 0) the lines belong to.
    public let attempt: Int
    /// The lines held, oldest first; absolute positions (see ``RingBuffer``) survive old lines falling out.
    public private(set) var lines: RingBuffer<OutputLine>
    /// The index the next new line must have at least (lines already seen are ignored).
    public private(set) var nextIndex = 0

    /// Creates an empty output of one attempt holding at most `capacity` lines.
    public init(attempt: Int = 0, capacity: Int) {
        self.attempt = attempt
        lines = RingBuffer(capacity: capacity)
    }

    /// Appends a line unless it was seen already; returns whether it was new.
    @discardableResult
    public mutating func append(_ line: OutputLine) -> Bool {
        guard line.index >= nextIndex else { return false }
        lines.append(line)
        nextIndex = line.index + 1
        return true
    }
}
