import Foundation
import MusterCore

/// The operator calls around a load (create a context, read whether it completed), on the load generator's own
/// client, decoding only the fields the bench uses: a 10,000-node context's JSON is megabytes, and decoding all of
/// it, as MusterClient does, would be counted as the load's cost.
struct LoadOperator: Sendable {
    private let token: String
    private var client: LoadClient

    /// The operator of `broker`, with its token.
    init(_ broker: BrokerProcess) throws {
        token = broker.token
        client = LoadClient(endpoint: try LoadEndpoint(url: broker.url))
    }

    /// Runs `body` with the operator of `broker`, and closes its connection before returning.
    static func using<T: Sendable>(_ broker: BrokerProcess, _ body: (inout LoadOperator) async throws -> T) async throws -> T {
        var client = try LoadOperator(broker)
        do {
            let result = try await body(&client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    /// A context created from `document` (not launched): its id and its nodes' tokens.
    mutating func createContext(document: String, name: String) async throws -> (id: ContextID, credentials: [NodeCredential]) {
        let body = try await client.call(
            .post(
                BrokerRoutes.contexts + "?name=\(BrokerRoutes.escape(name))",
                body: Data(document.utf8),
                contentType: "application/xml; charset=utf-8",
                token: token,
                at: client.endpoint
            )
        )
        let created = try JSONDecoder().decode(Created.self, from: Data(body))
        return (created.context.id, created.credentials)
    }

    /// The status of context `id`.
    mutating func status(of id: ContextID) async throws -> ContextStatus {
        let body = try await client.call(.get(BrokerRoutes.context(id), token: token, at: client.endpoint))
        return try JSONDecoder().decode(Detail.self, from: Data(body)).context.status
    }

    /// How many nodes of context `id` have registered (checked in), from the cheap context list (a context's
    /// status, not its nodes).
    mutating func registered(in id: ContextID) async throws -> Int {
        let body = try await client.call(.get(BrokerRoutes.contexts, token: token, at: client.endpoint))
        return try JSONDecoder().decode(Summaries.self, from: Data(body)).contexts.first { $0.id == id }?.status.registered ?? 0
    }

    /// Waits until `count` nodes of context `id` have registered, asking every `interval`; returns how many
    /// requests that took.
    mutating func waitUntilRegistered(_ count: Int, in id: ContextID, interval: Duration = .milliseconds(10)) async throws -> Int {
        var requests = 1
        while try await registered(in: id) < count {
            try await Task.sleep(for: interval)
            requests += 1
        }
        return requests
    }

    /// Closes the operator's connection.
    func close() async {
        await LoadClient.close([client])
    }

    private struct Created: Decodable {
        struct Context: Decodable {
            var id: ContextID
        }
        var context: Context
        var credentials: [NodeCredential]
    }

    private struct Summaries: Decodable {
        struct Summary: Decodable {
            struct Status: Decodable {
                var registered: Int
            }
            var id: ContextID
            var status: Status
        }
        var contexts: [Summary]
    }

    private struct Detail: Decodable {
        struct Context: Decodable {
            var status: ContextStatus
        }
        var context: Context
    }
}
