import HTTPTypes
import MusterCore

extension BrokerState {
    /// One page of the output of one generation (attempt) of a node. For the current generation it is
    /// ``outputPage(_:after:limit:maxBytes:)``; an earlier generation's output is finished, and its `total` is the
    /// number of its lines when this page reaches the end, or one more than `next` while lines remain.
    func outputPage(_ key: NodeKey, generation: Int, after: Int, limit: Int, maxBytes: Int) async throws(BrokerError) -> OutputPage {
        let node = try node(key)
        guard generation <= node.generation else {
            throw BrokerError(
                .notFound,
                code: "unknown-generation",
                "\(key.node) has had \(node.generation + 1) attempt\(node.generation == 0 ? "" : "s") (generations 0–\(node.generation)); there is no generation \(generation)"
            )
        }
        if generation == node.generation { return try await outputPage(key, after: after, limit: limit, maxBytes: maxBytes) }
        do {
            let lines = try await store.output(
                context: key.context,
                node: key.node,
                generation: generation,
                from: after,
                limit: limit,
                maxBytes: maxBytes
            )
            let next = lines.last.map { $0.index + 1 } ?? max(after, 0)
            let more = try await !store.output(context: key.context, node: key.node, generation: generation, from: next, limit: 1, maxBytes: 1)
                .isEmpty
            return OutputPage(lines: lines, next: next, total: more ? next + 1 : next)
        } catch {
            throw BrokerError(error)
        }
    }
}
