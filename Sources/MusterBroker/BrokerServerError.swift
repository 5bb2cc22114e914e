/// Why a broker could not start: a person can act on each (free the port, stop the other broker, fix the file).
public struct BrokerServerError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case stateInUse = "state-in-use"
            case cannotListen = "cannot-listen"
            case tls
            case state
            case storeUnreachable = "store-unreachable"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Another broker holds the state folder.
        public static let stateInUse = Code(.stateInUse)
        /// The address cannot be listened on (in use, not this machine's, no permission).
        public static let cannotListen = Code(.cannotListen)
        /// The TLS certificate or key cannot be loaded.
        public static let tls = Code(.tls)
        /// The state cannot be opened or read.
        public static let state = Code(.state)
        /// The state's database server cannot be reached or refuses the broker (address, password, TLS).
        public static let storeUnreachable = Code(.storeUnreachable)

        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What happened and what to do, naming the file or address.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
