/// A data value for a `3-data` script: its name and its value, which may be a secret.
///
/// Its descriptions never show the value (only its size), so a plan can be logged or printed by a failing
/// test without leaking it.
public struct DataValue: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The data name (the script is `3-data/<name>`).
    public var name: String
    /// The value exactly as the document holds it; the script receives it in a file, byte for byte (UTF-8).
    public var value: String

    /// Creates a data value.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "DataValue(\(name), \(value.utf8.count) bytes)" }

    public var debugDescription: String { description }
}
