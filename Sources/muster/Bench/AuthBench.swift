import ArgumentParser
import AsyncHTTPClient
import Foundation
import MusterCore
import NIOCore
import NIOHTTP1

struct AuthBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Broker CPU per request with a wrong token, next to /v1/healthz, with N node tokens issued.",
        discussion: """
            The broker runs as its own process (`muster broker`) on SQLite; contexts of at most 10,000 nodes are \
            created until N node tokens are current. Then the same client load (--clients concurrent clients, \
            --requests requests in all per phase) sends, in turn: `GET /v1/healthz`; `GET /v1/contexts` with a \
            random operator-shaped token (401); `GET …/nodes/w-0/answer?wait=0` with a random node-shaped token \
            (401). Reported per phase: the broker's CPU microseconds per request (its user + system time over \
            the phase, divided by the requests), requests per second, and for the two wrong-token phases the \
            ratio to healthz. Target: within 2× of healthz at 10,000 and 100,000 nodes (a token is looked up by \
            its hash, not compared with every node's).
            """
    )

    @Option(help: ArgumentHelp("Node token counts, comma-separated.", valueName: "n[,n…]"))
    var nodes = "1,10000,100000"

    @Option(help: "Concurrent clients.")
    var clients = 32

    @Option(help: "Requests per phase.")
    var requests = 20_000

    @OptionGroup var output: BenchOutput

    func run() async throws {
        BenchLimits.raiseOpenFiles()
        var report = BenchReport(json: output.json)
        for count in try BenchSizes.parse(nodes, name: "--nodes") {
            BenchReport.progress("auth: \(count) node tokens…")
            let broker = try await BrokerProcess.start()
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                let context = try await Self.issue(count, broker: broker, client: client)
                let phases: [(name: String, path: String, token: String?)] = [
                    ("healthz", BrokerRoutes.health, nil),
                    ("wrong-operator-token", BrokerRoutes.contexts, "mst_op_" + UUID().uuidString),
                    ("wrong-node-token", BrokerRoutes.answer(context, "w-0") + "?wait=0", "mst_node_" + UUID().uuidString),
                ]
                var healthz = 0.0
                for phase in phases {
                    let (perRequest, rate) = try await measure(path: phase.path, token: phase.token, broker: broker, client: client)
                    if phase.name == "healthz" { healthz = perRequest }
                    var figures = ["broker_cpu_us_per_request": perRequest, "requests_per_s": rate]
                    if phase.name != "healthz" { figures["of_healthz"] = perRequest / max(healthz, 0.001) }
                    report.add(BenchResult(scenario: "auth-" + phase.name, parameters: ["nodes": count], figures: figures))
                }
            } catch {
                try? await client.shutdown()
                await broker.stop()
                throw error
            }
            try? await client.shutdown()
            await broker.stop()
        }
        report.printTable(columns: [
            ("broker CPU/request", "broker_cpu_us_per_request", { String(format: "%.0f µs", $0) }),
            ("req/s", "requests_per_s", Figure.count),
            ("× healthz", "of_healthz", Figure.ratio),
        ])
    }

    /// Creates contexts of at most 10,000 nodes until `count` node tokens are current; returns the first context.
    static func issue(_ count: Int, broker: BrokerProcess, client: HTTPClient) async throws -> ContextID {
        var first: ContextID?
        var left = count
        while left > 0 {
            let quantity = min(left, 10_000)
            let xml = """
                <cluster><workspace><name>w</name><image>i</image><quantity>\(quantity)</quantity><nic>public</nic>
                <ctx><provides><identity/></provides></ctx></workspace></cluster>
                """
            var request = HTTPClientRequest(url: broker.url + BrokerRoutes.contexts + "?name=auth")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(broker.token)")
            request.body = .bytes(ByteBuffer(string: xml))
            let response = try await client.execute(request, timeout: .seconds(600))
            let body = try await response.body.collect(upTo: 256 * 1024 * 1024)
            guard response.status == .created else { throw ValidationError("creating a context failed: \(response.status)") }
            let created = try WireFormat.decoder().decode(CreatedContext.self, from: Data(body.readableBytesView))
            first = first ?? created.context.id
            left -= quantity
        }
        return first!
    }

    /// Broker CPU microseconds per request and requests per second for `requests` requests of `path`.
    private func measure(path: String, token: String?, broker: BrokerProcess, client: HTTPClient) async throws -> (Double, Double) {
        let perClient = max(1, requests / clients)
        let cpu = Memory.cpuSeconds(pid: broker.pid)
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    for _ in 0..<perClient {
                        var request = HTTPClientRequest(url: broker.url + path)
                        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
                        let response = try await client.execute(request, timeout: .seconds(60))
                        _ = try await response.body.collect(upTo: 1 << 20)
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = (clock.now - start).seconds
        let total = Double(perClient * clients)
        return ((Memory.cpuSeconds(pid: broker.pid) - cpu) / total * 1e6, total / elapsed)
    }
}
