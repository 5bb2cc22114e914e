/// The message in the status line: an action's result, a refusal, a hint.
public struct StatusMessage: Sendable, Hashable {
    /// How the message is shown.
    public enum Kind: Sendable, Hashable {
        /// Neutral information.
        case info
        /// An action succeeded.
        case success
        /// Something failed or was refused.
        case error
    }

    /// The text.
    public var text: String
    /// How it is shown.
    public var kind: Kind

    /// Creates a message.
    public init(_ text: String, _ kind: Kind = .info) {
        self.text = text
        self.kind = kind
    }
}
