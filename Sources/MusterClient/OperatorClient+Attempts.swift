import Foundation
import MusterCore

extension OperatorClient {
    /// `GET …/nodes/{node}/generations/{generation}/output`: one page of the output of one attempt of a node.
    /// A retry starts a new attempt (generation) with its own output; the earlier ones stay readable here.
    ///
    /// - Parameters:
    ///   - node: The node.
    ///   - context: The node's context.
    ///   - generation: The attempt, from 0 (the first); a node's ``NodeSnapshot/generation`` is its latest.
    ///   - from: The index of the first line wanted.
    ///   - limit: The most lines wanted; `nil` lets the broker choose.
    public func output(of node: String, in context: ContextID, generation: Int, from: Int = 0, limit: Int? = nil) async throws -> OutputPage {
        var query: [(name: String, value: String)] = [("from", String(from))]
        if let limit { query.append(("limit", String(limit))) }
        return try await connection.send(
            BrokerCall(.GET, BrokerRoutes.generationOutput(context, node, generation: generation), query: query, token: token, safety: .idempotent),
            decoding: OutputPage.self
        )
    }

    /// Every line of one attempt of a node's output, page by page (for finished attempts; a running one grows).
    public func allOutput(of node: String, in context: ContextID, generation: Int) async throws -> [OutputLine] {
        var lines: [OutputLine] = []
        var from = 0
        while true {
            let page = try await output(of: node, in: context, generation: generation, from: from, limit: 5_000)
            lines += page.lines
            if page.lines.isEmpty || page.next >= page.total { return lines }
            from = page.next
        }
    }
}
