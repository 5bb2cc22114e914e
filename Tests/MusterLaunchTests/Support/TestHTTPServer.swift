import Foundation
import Hummingbird
import Logging

/// A tiny HTTP server on a loopback address and a free port, for one test or one emulated instance.
final class TestHTTPServer: Sendable {
    let host: String
    let port: Int
    private let runner: Task<Void, any Error>

    /// Starts a server answering with `router` on `host` (port 0: a free one).
    static func start(_ router: Router<BasicRequestContext>, host: String = "127.0.0.1") async throws -> TestHTTPServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test-http")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let runner = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            runner.cancel()
            throw TestFailure("the test server on \(host) did not start")
        }
        return TestHTTPServer(host: host, port: port, runner: runner)
    }

    private init(host: String, port: Int, runner: Task<Void, any Error>) {
        self.host = host
        self.port = port
        self.runner = runner
    }

    var url: String { "http://\(host):\(port)" }

    /// Stops the server.
    func stop() async {
        runner.cancel()
        _ = await runner.result
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Waits until `condition` holds, checking every `interval`, for at most `timeout`; fails with `what` otherwise.
func eventually(
    _ what: String,
    timeout: Duration = .seconds(60),
    interval: Duration = .milliseconds(200),
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: interval)
    }
    throw TestFailure("timed out after \(timeout) waiting for: \(what)")
}
