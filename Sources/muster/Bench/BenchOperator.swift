import AsyncHTTPClient
import Logging
import MusterClient

/// The bench's operator: the few operator calls around a load (create a context, read its status) through
/// MusterClient, on an HTTP client of their own that is shut down before the next measurement.
enum BenchOperator {
    /// Runs `body` with an operator client of `broker`.
    static func using<T: Sendable>(_ broker: BrokerProcess, _ body: (OperatorClient) async throws -> T) async throws -> T {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
            let connection = try BrokerConnection(configuration: BrokerConfiguration(url: broker.url), httpClient: client, logger: logger)
            let result = try await body(connection.operatorClient(token: broker.token))
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
