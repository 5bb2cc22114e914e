import Foundation
import Hummingbird
import MusterCore
import Synchronization

/// Encodes long-poll answers, reusing the JSON of the all-identities list while it does not change.
///
/// A node that requires `<identity/>` gets every identity of its context, and so does every other such node:
/// the same list, as long as the context. Encoding it once per change instead of once per answer keeps the
/// broker's JSON work for a mass release linear in the number of nodes (the bytes written stay quadratic,
/// and copying them is cheap). Everything else in an answer is small and written each time
/// (``AnswerResponse/wireJSON(identitiesJSON:)``).
final class AnswerEncoder: Sendable {
    /// Answers with fewer identities than this are encoded whole: caching would not pay.
    static let minimumCachedCount = 32
    /// Contexts whose list is kept (the most recently used ones).
    static let maximumContexts = 16

    private struct Entry {
        var identities: [NodeIdentities]
        var json: [UInt8]
        var used: UInt64
    }

    private struct Cache {
        var entries: [ContextID: Entry] = [:]
        var clock: UInt64 = 0
    }

    private let cache = Mutex(Cache())

    /// The JSON body for `response`, an answer to a node of `context`.
    func encode(_ response: AnswerResponse, context: ContextID) throws -> [UInt8] {
        guard let answer = response.answer, answer.identities.count >= Self.minimumCachedCount else { return try response.wireJSON() }
        return try response.wireJSON(identitiesJSON: identitiesJSON(answer.identities, context: context))
    }

    /// The HTTP response carrying `response`, an answer to a node of `context`.
    func response(_ response: AnswerResponse, context: ContextID) throws -> Response {
        HTTPSupport.json(bytes: try encode(response, context: context))
    }

    private func identitiesJSON(_ identities: [NodeIdentities], context: ContextID) -> [UInt8] {
        // The list is compared outside the lock: it is as long as the context.
        if let entry = cache.withLock({ $0.entries[context] }), entry.identities == identities {
            cache.withLock { cache in
                cache.clock += 1
                cache.entries[context]?.used = cache.clock
            }
            return entry.json
        }
        let json = AnswerResponse.identitiesWireJSON(identities)
        cache.withLock { cache in
            cache.clock += 1
            cache.entries[context] = Entry(identities: identities, json: json, used: cache.clock)
            if cache.entries.count > Self.maximumContexts, let oldest = cache.entries.min(by: { $0.value.used < $1.value.used })?.key {
                cache.entries[oldest] = nil
            }
        }
        return json
    }
}
