import Foundation
import Hummingbird
import HummingbirdAuth
import MusterCore

/// The bearer token of a request: `Authorization: Bearer <token>` (the scheme in any case), or `nil`.
func bearerToken(_ request: Request) -> String? {
    request.headers[.authorization].flatMap(bearerToken(header:))
}

/// The token of an `Authorization: Bearer <token>` header value (the scheme in any case, blanks around the token
/// ignored), or `nil`.
func bearerToken(header: String) -> String? {
    // By bytes: Foundation's `trimmingCharacters(in:)` and `lowercased()` cost more than the token lookup itself.
    let bytes = Array(header.utf8)
    guard let space = bytes.firstIndex(of: UInt8(ascii: " ")), space == 6,
        zip(bytes[..<space], "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 })
    else { return nil }
    let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    guard let first = bytes[(space + 1)...].firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else {
        return nil
    }
    return String(decoding: bytes[first...last], as: UTF8.self)
}

typealias TokenCatchUp = @Sendable () async -> Void

/// Who `token` belongs to; a token unknown here is looked up once more after `catchUp`, if given.
private func owner(of token: String, in tokens: TokenBook, catchUp: TokenCatchUp?) async -> TokenOwner? {
    if let owner = tokens.owner(of: token) { return owner }
    guard let catchUp else { return nil }
    await catchUp()
    return tokens.owner(of: token)
}

/// Lets a request into the operator route group only with the operator token: none or an unknown one is 401,
/// a node's token is 403. One hash and one dictionary probe, whatever the number of nodes; with replicas, the
/// state catches up with the others first.
struct OperatorAuthenticator: AuthenticatorMiddleware {
    typealias Context = BrokerRequestContext
    let tokens: TokenBook
    let catchUp: TokenCatchUp?

    func authenticate(request: Request, context: Context) async throws -> BrokerIdentity? {
        guard let token = bearerToken(request) else {
            throw BrokerError.unauthorized("missing bearer token: send 'Authorization: Bearer <operator token>'")
        }
        // An operator reads what every replica committed so far (a status right after an agent reported to another
        // replica shows that report): catching up first also finds an operator token set on another replica.
        await catchUp?()
        switch tokens.owner(of: token) {
        case .operator:
            return .operator
        case .node: throw BrokerError.forbidden("a node token cannot use operator endpoints")
        case nil: throw BrokerError.unauthorized("invalid operator token")
        }
    }
}

/// Lets a request into the agent route group only with the current token of the node its path names
/// (`/v1/contexts/:context/nodes/:node/…`): none or an unknown token is 401; the operator token, or another
/// node's token, is 403 (a node speaks only as itself).
struct NodeAuthenticator: AuthenticatorMiddleware {
    typealias Context = BrokerRequestContext
    let tokens: TokenBook
    let catchUp: TokenCatchUp?

    func authenticate(request: Request, context: Context) async throws -> BrokerIdentity? {
        let key = NodeKey(
            context: ContextID(try HTTPSupport.parameter(context, "context")),
            node: try HTTPSupport.parameter(context, "node")
        )
        guard let token = bearerToken(request) else {
            throw BrokerError.unauthorized("missing bearer token: send 'Authorization: Bearer <node token>'")
        }
        switch await owner(of: token, in: tokens, catchUp: catchUp) {
        case .node(let owner) where owner == key:
            return .node(key)
        case .node:
            throw BrokerError.forbidden("this token belongs to another node; a node may speak only as itself")
        case .operator:
            throw BrokerError.forbidden("this endpoint is for the node's own agent; the operator token cannot act as a node")
        case nil:
            throw BrokerError.unauthorized("invalid node token for \(key.node) (retried nodes get a new token)")
        }
    }
}
