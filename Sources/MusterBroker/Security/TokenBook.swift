import MusterCore
import Synchronization

/// Who a bearer token belongs to, as far as the broker can tell.
enum TokenOwner: Sendable, Hashable {
    /// The operator token.
    case `operator`
    /// The current token of one node.
    case node(NodeKey)
}

/// Every token the broker accepts, by hash: the operator token and each node's current token.
///
/// Looking a token up costs one SHA-256 and one dictionary probe whatever the number of nodes, so a flood of
/// wrong tokens costs no more than `/v1/healthz`. The index is keyed by the first 8 bytes of each token's hash;
/// the full hash of the one candidate (or the rare few sharing a prefix) is then compared in constant time, so
/// the probe's timing says nothing about any stored hash beyond a prefix of a SHA-256 no one can invert.
///
/// The state actor writes it (as it mints tokens), the authentication middleware reads it without waiting for
/// the actor: a request with a bad token is refused even while the actor is busy.
final class TokenBook: Sendable {
    private struct Contents {
        var operatorHash: [UInt8]?
        var records: [NodeKey: NodeTokenRecord] = [:]
        var byPrefix: [UInt64: [NodeKey]] = [:]
    }

    private let contents = Mutex(Contents())

    init() {}

    /// The operator token's hash, once set.
    var operatorHash: [UInt8]? {
        get { contents.withLock { $0.operatorHash } }
        set { contents.withLock { $0.operatorHash = newValue } }
    }

    /// The current token record of a node.
    func record(for key: NodeKey) -> NodeTokenRecord? {
        contents.withLock { $0.records[key] }
    }

    /// Sets (or replaces) a node's current token; the previous one stops working.
    func set(_ record: NodeTokenRecord) {
        let key = NodeKey(context: record.context, node: record.node)
        contents.withLock { contents in
            if let old = contents.records[key] { Self.unindex(key, hash: old.hash, in: &contents) }
            contents.records[key] = record
            contents.byPrefix[Self.prefix(record.hash), default: []].append(key)
        }
    }

    /// Forgets every node token of a deleted context.
    func removeAll(context: ContextID) {
        contents.withLock { contents in
            for (key, record) in contents.records where key.context == context {
                contents.records[key] = nil
                Self.unindex(key, hash: record.hash, in: &contents)
            }
        }
    }

    /// Replaces every node token with `records` (a replica reloading the whole state).
    func replaceNodeTokens(with records: [NodeTokenRecord]) {
        contents.withLock { contents in
            contents.records = [:]
            contents.byPrefix = [:]
            for record in records {
                let key = NodeKey(context: record.context, node: record.node)
                contents.records[key] = record
                contents.byPrefix[Self.prefix(record.hash), default: []].append(key)
            }
        }
    }

    /// Puts back what a node had before a change that could not be saved (`nil`: no token).
    func restore(_ key: NodeKey, to record: NodeTokenRecord?) {
        if let record {
            set(record)
        } else {
            contents.withLock { contents in
                guard let old = contents.records.removeValue(forKey: key) else { return }
                Self.unindex(key, hash: old.hash, in: &contents)
            }
        }
    }

    /// Who `token` belongs to, or `nil` when it is no token the broker knows.
    func owner(of token: String) -> TokenOwner? {
        owner(ofHash: Token.hash(token))
    }

    /// Who the token with this SHA-256 belongs to.
    func owner(ofHash hash: [UInt8]) -> TokenOwner? {
        contents.withLock { contents in
            if let operatorHash = contents.operatorHash, Token.constantTimeEqual(operatorHash, hash) { return .operator }
            for key in contents.byPrefix[Self.prefix(hash)] ?? [] {
                if let record = contents.records[key], Token.constantTimeEqual(record.hash, hash) { return .node(key) }
            }
            return nil
        }
    }

    /// How many node tokens are current.
    var nodeCount: Int { contents.withLock { $0.records.count } }

    private static func unindex(_ key: NodeKey, hash: [UInt8], in contents: inout Contents) {
        let prefix = Self.prefix(hash)
        contents.byPrefix[prefix]?.removeAll { $0 == key }
        if contents.byPrefix[prefix]?.isEmpty == true { contents.byPrefix[prefix] = nil }
    }

    /// The first 8 bytes of a hash as the index key (a hash shorter than that is indexed by what it has).
    private static func prefix(_ hash: [UInt8]) -> UInt64 {
        var value: UInt64 = 0
        for byte in hash.prefix(8) { value = value << 8 | UInt64(byte) }
        return value
    }
}
