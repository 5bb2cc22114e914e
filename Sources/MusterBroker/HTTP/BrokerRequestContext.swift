import Hummingbird
import HummingbirdAuth
import Logging
import MusterCore
import NIOCore

/// The verified identity behind a request, set by the authenticating middleware of its route group.
enum BrokerIdentity: Sendable, Hashable {
    /// The operator.
    case `operator`
    /// One node of one context, speaking only as itself.
    case node(NodeKey)

    /// The token's owner, for per-token caps.
    var owner: TokenOwner {
        switch self {
        case .operator: .operator
        case .node(let key): .node(key)
        }
    }
}

/// Every request's context: Hummingbird's core context, the connection (so a stream that falls behind can be
/// closed at once), and, once a route group's authenticator has run, the verified identity.
struct BrokerRequestContext: AuthRequestContext, RequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: BrokerIdentity?
    /// The connection the request came on.
    let channel: any Channel
    /// Where an agent route leaves a long-poll for ``BrokerResponder`` to hold.
    let held = HeldAnswerSlot()

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.identity = nil
    }

    /// The request's connection, for a stream.
    var connection: StreamConnection { StreamConnection(channel: channel) }
}

/// The connection a stream is written to: the broker closes it when its reader falls behind, and ends the
/// stream as soon as the reader goes away (rather than at the next heartbeat).
struct StreamConnection: Sendable {
    let channel: (any Channel)?

    /// Closes the connection.
    func close() { channel?.close(promise: nil) }

    /// Runs `body` once the connection is closed (at once if it already is).
    func whenClosed(_ body: @escaping @Sendable () -> Void) { channel?.closeFuture.whenComplete { _ in body() } }
}

/// The context of an operator route: it exists only once the operator token was verified, so a handler that
/// takes it cannot run for anyone else.
struct OperatorRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The request's connection, for a stream.
    let connection: StreamConnection

    init(context: BrokerRequestContext) throws {
        guard context.identity == .operator else { throw BrokerError.unauthorized("this route needs the operator token") }
        self.coreContext = context.coreContext
        self.connection = context.connection
    }
}

/// The context of an agent route: it exists only once the token of the node named in the path was verified,
/// and carries that node, so a handler acts as the node that spoke and no other.
struct NodeRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The node whose token was verified (the one named in the path).
    let node: NodeKey
    /// Where a long-poll is left for ``BrokerResponder`` to hold.
    let held: HeldAnswerSlot

    init(context: BrokerRequestContext) throws {
        guard case .node(let key) = context.identity else { throw BrokerError.unauthorized("this route needs the node's own token") }
        self.coreContext = context.coreContext
        self.node = key
        self.held = context.held
    }

    /// The response to a long-poll's first look: the answer now, or the long-poll left for ``BrokerResponder``
    /// to hold once the route returns (the route's own response is then a placeholder, never sent).
    func respond(to poll: AnswerPoll, answers: AnswerEncoder) throws -> Response {
        switch poll {
        case .now(let response):
            return try answers.response(response, context: node.context)
        case .held(let wake):
            held.hold(HeldAnswer(node: node, wake: wake))
            return Response(status: .accepted)
        }
    }
}
