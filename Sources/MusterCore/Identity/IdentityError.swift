/// Why a node's identity for one NIC was refused: which NIC, which field, and what is wrong with it.
///
/// Identities end up in other nodes' `etc/hosts`, `etc/hosts.equiv` and `ssh_known_hosts`, so each field is
/// checked where it enters (the broker's engine on check-in, and again by an agent before it writes files).
public struct IdentityError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field of an ``Identity`` that was refused.
    public enum Field: String, Sendable, Hashable, CaseIterable {
        /// ``Identity/interface``: the NIC name.
        case interface
        /// ``Identity/ip``.
        case ip
        /// ``Identity/hostname``.
        case hostname
        /// ``Identity/pubkey``.
        case pubkey

        /// The field as a message names it.
        public var title: String {
            switch self {
            case .interface: "NIC name"
            case .ip: "IP address"
            case .hostname: "host name"
            case .pubkey: "SSH host key"
            }
        }
    }

    /// The refused field.
    public var field: Field
    /// The NIC the identity is for, as sent (made inert for terminals and cut to a readable length).
    public var interface: String
    /// What is wrong with the field, for a person.
    public var reason: String

    /// Creates an error.
    public init(field: Field, interface: String, reason: String) {
        self.field = field
        self.interface = TerminalText.inert(TerminalText.truncated(interface, to: 60))
        self.reason = reason
    }

    /// A stable code per field: `invalid-interface`, `invalid-ip`, `invalid-hostname`, `invalid-pubkey`.
    public var code: String { "invalid-\(field.rawValue)" }

    /// The whole message, naming the NIC and the field.
    public var message: String { "the identity of NIC '\(interface)' has an invalid \(field.title): \(reason)" }

    public var description: String { "\(code): \(message)" }
}
