import MusterCore

/// Every error a ``BrokerConnection``, ``OperatorClient`` or ``AgentClient`` call throws (apart from
/// `CancellationError` when the calling task is cancelled).
///
/// Switch on ``code`` to decide what to do; show ``message`` to a person: it says what happened and, where it
/// can, what to do about it. When the broker answered, ``status``, ``brokerCode`` and ``brokerMessage`` hold what
/// it said, and ``diagnostics`` the problems of a refused cluster document.
///
/// ```swift
/// do {
///     _ = try await client.createContext(document: xml, name: "torque")
/// } catch let error as BrokerClientError where error.code == .invalidDocument {
///     for diagnostic in error.diagnostics { print(diagnostic.formatted(file: "cluster.xml")) }
/// }
/// ```
public struct BrokerClientError: Error, Sendable, CustomStringConvertible {
    /// What kind of error this is. A struct rather than an enum, so that kinds can be added without breaking
    /// a caller's `switch`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case badRequest = "bad-request"
            case unauthorized
            case forbidden
            case notFound = "not-found"
            case conflict
            case outputGap = "output-gap"
            case tooLarge = "too-large"
            case invalidDocument = "invalid-document"
            case invalidInput = "invalid-input"
            case unavailable
            case serverError = "server-error"
            case unexpectedStatus = "unexpected-status"
            case cannotConnect = "cannot-connect"
            case connectionLost = "connection-lost"
            case timedOut = "timed-out"
            case tls
            case decoding
            case unexpectedResponse = "unexpected-response"
            case invalidConfiguration = "invalid-configuration"
            case shutDown = "shut-down"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// 400: the broker could not make sense of the request.
        public static let badRequest = Code(.badRequest)
        /// 401: no token, or one the broker does not know.
        public static let unauthorized = Code(.unauthorized)
        /// 403: a valid token that may not do this (an agent token on an operator route, node A's token for node B).
        public static let forbidden = Code(.forbidden)
        /// 404: no such context, node or route.
        public static let notFound = Code(.notFound)
        /// 409: the request does not fit the current state (for example retrying a node that is running).
        public static let conflict = Code(.conflict)
        /// 409 on an output append: lines are missing before the ones sent; ``BrokerClientError/expected`` says
        /// from where to resend. ``AgentClient/appendOutput(_:)`` turns this into
        /// ``OutputAppendOutcome/gap(expected:)`` rather than throwing it.
        public static let outputGap = Code(.outputGap)
        /// 413: the request body is over the broker's limit.
        public static let tooLarge = Code(.tooLarge)
        /// 422: the cluster document is invalid; see ``BrokerClientError/diagnostics``.
        public static let invalidDocument = Code(.invalidDocument)
        /// 422 for anything but a document: a well-formed request with a value the broker cannot accept (for
        /// example adding 0 nodes).
        public static let invalidInput = Code(.invalidInput)
        /// 429, 502, 503, 504: the broker (or a proxy before it) is there but cannot serve now (it is at one of its
        /// limits, shutting down, or restarting); worth trying later.
        public static let unavailable = Code(.unavailable)
        /// Another 5xx: the broker failed.
        public static let serverError = Code(.serverError)
        /// A status the client does not expect (for example a redirect, which the client never follows, so that a
        /// token is never sent elsewhere).
        public static let unexpectedStatus = Code(.unexpectedStatus)
        /// No connection could be made (refused, unknown host, connect timeout): the request never reached the
        /// broker.
        public static let cannotConnect = Code(.cannotConnect)
        /// The connection broke before the whole response arrived: the broker may or may not have acted.
        public static let connectionLost = Code(.connectionLost)
        /// The broker did not answer in time.
        public static let timedOut = Code(.timedOut)
        /// The TLS handshake failed (for example an untrusted certificate).
        public static let tls = Code(.tls)
        /// The broker answered with a body that is not what this client understands (a different version?).
        public static let decoding = Code(.decoding)
        /// The response was not usable (for example too large).
        public static let unexpectedResponse = Code(.unexpectedResponse)
        /// The client's configuration is not usable (a malformed URL, an unreadable CA file).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The connection was shut down before the call.
        public static let shutDown = Code(.shutDown)

        /// A stable name, such as `not-found`.
        public var description: String { base.rawValue }
    }

    /// What kind of error this is.
    public var code: Code
    /// What happened, for a person, with what to do about it where the client can tell.
    public var message: String
    /// The HTTP status, when the broker answered.
    public var status: Int?
    /// The broker's own error code (`unknown-node`, `invalid-document`, …), when it sent one.
    public var brokerCode: String?
    /// The broker's own message, when it sent one.
    public var brokerMessage: String?
    /// For ``Code/invalidDocument``: every problem the broker found in the document.
    public var diagnostics: [Diagnostic]
    /// For ``Code/outputGap``: the output line index the broker expects next.
    public var expected: Int?
    /// The request that failed, as `METHOD /path`.
    public var request: String?
    /// The lower-level error (from the HTTP client, the decoder), if there is one.
    public var underlying: (any Error)?
    /// The broker address the failed request went to, when it went to one (of several, see
    /// ``BrokerConfiguration/baseURLs``).
    public var baseURL: String?

    /// Creates an error.
    public init(
        code: Code,
        message: String,
        status: Int? = nil,
        brokerCode: String? = nil,
        brokerMessage: String? = nil,
        diagnostics: [Diagnostic] = [],
        expected: Int? = nil,
        request: String? = nil,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.status = status
        self.brokerCode = brokerCode
        self.brokerMessage = brokerMessage
        self.diagnostics = diagnostics
        self.expected = expected
        self.request = request
        self.underlying = underlying
    }

    /// ``message``.
    public var description: String { message }

    /// Whether trying the same request again later may succeed (the broker was unreachable, overloaded, at a
    /// limit, or the connection broke); `false` for answers that will not change by asking again (401, 404, 422, …).
    public var isTransient: Bool {
        [.unavailable, .cannotConnect, .connectionLost, .timedOut].contains(code)
    }
}

extension BrokerClientError {
    /// The error for a response with a non-success status, from the broker's error body if it sent one.
    init(status: Int, reason: String, body: APIErrorBody.Detail?, request: String, baseURL: String) {
        let code: Code =
            switch status {
            case 400: .badRequest
            case 401: .unauthorized
            case 403: .forbidden
            case 404: .notFound
            case 409: body?.expected != nil || body?.code == "output-gap" ? .outputGap : .conflict
            case 413: .tooLarge
            case 422: body?.diagnostics != nil || body?.code == "invalid-document" ? .invalidDocument : .invalidInput
            case 429, 502, 503, 504: .unavailable
            case 500...599: .serverError
            default: .unexpectedStatus
            }
        let said = body.map { ": \($0.message)" } ?? ""
        let hint: String =
            switch code {
            case .unauthorized: " (the broker does not know this token: check the token this client was given, such as MUSTER_TOKEN)"
            case .forbidden: " (this token may not do that: an agent token only speaks for its own node)"
            case .invalidDocument:
                body?.diagnostics.map { $0.isEmpty ? "" : " (\($0.count) diagnostic\($0.count == 1 ? "" : "s"))" } ?? ""
            case .unavailable: " (the broker at \(baseURL) cannot serve now; try again shortly)"
            case .unexpectedStatus where (300..<400).contains(status): " (redirects are not followed; check the broker address)"
            default: ""
            }
        self.init(
            code: code,
            message: "\(request) failed with \(status) \(reason)\(said)\(hint)",
            status: status,
            brokerCode: body?.code,
            brokerMessage: body?.message,
            diagnostics: body?.diagnostics ?? [],
            expected: body?.expected,
            request: request
        )
        self.baseURL = baseURL
    }
}
