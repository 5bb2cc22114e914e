import Foundation
import Hummingbird
import Logging
import MusterClient
import MusterCore
import Testing

@Suite("Several broker addresses")
struct FailoverTests {
    @Test func `a comma-separated address list is normalized, deduplicated, and tried in order`() throws {
        let configuration = try BrokerConfiguration(url: "127.0.0.1:7077, https://b.example:7077/muster/,http://127.0.0.1:7077")
        #expect(configuration.baseURLs == ["http://127.0.0.1:7077", "https://b.example:7077/muster"])
        #expect(configuration.baseURL == "http://127.0.0.1:7077")
        #expect(configuration.urlList == "http://127.0.0.1:7077,https://b.example:7077/muster")
        #expect(throws: BrokerClientError.self) { try BrokerConfiguration(url: "http://a:1,,http://b:2") }
        #expect(throws: BrokerClientError.self) { try BrokerConfiguration(url: "http://a:1,ftp://b:2") }
    }

    @Test func `a call that cannot reach the first address goes to the next, and later calls stay there`() async throws {
        try await TestBroker.withClosedPort { closed in
            let seen = Recorder<String>()
            let router = Router()
            router.get("/v1/contexts") { _, _ in
                _ = seen.record("contexts")
                return try Response.json(ContextList(contexts: [Fixture.summary]))
            }
            try await TestBroker.run(router) { port in
                let configuration = try BrokerConfiguration(url: "http://127.0.0.1:\(closed),http://127.0.0.1:\(port)")
                var logger = Logger(label: "failover")
                logger.logLevel = .critical
                let connection = try BrokerConnection(configuration: configuration, logger: logger, sleep: { _ in })
                let client = connection.operatorClient(token: "op")
                #expect(try await client.contexts() == [Fixture.summary])
                #expect(connection.activeBaseURL == "http://127.0.0.1:\(port)")
                #expect(try await client.contexts() == [Fixture.summary])
                #expect(seen.count == 2)
                try await connection.shutdown()
            }
        }
    }

    @Test func `an event stream that cannot open at the first address opens at the next`() async throws {
        try await TestBroker.withClosedPort { closed in
            let router = Router()
            router.get("/v1/events") { _, _ in
                Response.eventStream { writer in
                    try await writer.write(try Fixture.sse(Fixture.event(1)))
                    try await Task.sleep(for: .seconds(30))
                }
            }
            try await TestBroker.run(router) { port in
                let configuration = try BrokerConfiguration(url: "http://127.0.0.1:\(closed),http://127.0.0.1:\(port)")
                var logger = Logger(label: "failover")
                logger.logLevel = .critical
                let connection = try BrokerConnection(configuration: configuration, logger: logger, sleep: { _ in })
                var first: UInt64?
                for try await element in connection.operatorClient(token: "op").events() {
                    if case .event(let event) = element {
                        first = event.sequence
                        break
                    }
                }
                #expect(first == 1)
                #expect(connection.activeBaseURL == "http://127.0.0.1:\(port)")
                try await connection.shutdown()
            }
        }
    }
}
