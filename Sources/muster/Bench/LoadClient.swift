import NIOCore

/// One virtual client's link to the broker: a ``LoadConnection`` opened on first use, and opened again when the
/// broker has closed it (its idle timeout, or `Connection: close`). A request that fails on a connection the
/// broker closed under it is sent once more on a fresh one; every request the bench sends is idempotent (the
/// broker deduplicates agent calls), as MusterClient's retries assume too.
struct LoadClient: Sendable {
    let endpoint: LoadEndpoint
    /// The event loop its connections are opened on (`nil`: any of the shared ones).
    let eventLoop: (any EventLoop)?
    private(set) var connection: LoadConnection?

    init(endpoint: LoadEndpoint, on eventLoop: (any EventLoop)? = nil) {
        self.endpoint = endpoint
        self.eventLoop = eventLoop
    }

    /// Sends `request`; returns the response's body, or throws if the status is not 2xx.
    mutating func call(_ request: LoadRequest, isolation: isolated (any Actor)? = #isolation) async throws -> [UInt8] {
        let response = try await send(request)
        guard response.isSuccess else {
            throw LoadFailure("\(request.summary) answered \(response.status): \(String(decoding: response.body.prefix(500), as: UTF8.self))")
        }
        return response.body
    }

    /// Sends `request` and returns its response, whatever its status.
    mutating func send(_ request: LoadRequest, isolation: isolated (any Actor)? = #isolation) async throws -> LoadResponse {
        if let connection, connection.isOpen {
            do {
                return try await connection.send(request)
            } catch  where !connection.isOpen {
                // Closed by the broker as the request went out: once more on a fresh connection, below.
            }
        }
        let fresh = try await LoadConnection.open(to: endpoint, on: eventLoop)
        connection = fresh
        return try await fresh.send(request)
    }

    /// Closes the clients' connections and waits until they are closed (all at once: thousands of connections
    /// close in about the time one does).
    static func close(_ clients: [LoadClient]) async {
        for client in clients { client.connection?.close() }
        for client in clients { await client.connection?.closed() }
    }
}
