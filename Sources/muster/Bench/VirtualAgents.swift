import ArgumentParser
import Foundation
import MusterClient
import MusterCore

/// The load: N virtual agents (``LoadAgent``) talking to a broker as real agents do, on the bench's own minimal
/// HTTP client so that the load costs little next to the broker's work; and the bare-HTTP baseline on the same
/// client.
enum VirtualAgents {
    /// A load's figures and the requests it sent.
    struct Result {
        var figures: [String: Double]
        var requests: Int
    }

    /// What one agent's task did.
    private struct Outcome: Sendable {
        var latency: Double?
        var requests: Int
        var answerBytes: Int
        var client: LoadClient
    }

    /// Every dependent checks in, and its check-in is held as its long-poll; once the broker has them all, the head
    /// checks in, which releases them; then each agent reports ok with its output lines. A quiet agent's whole
    /// path is two requests. With `replicas` (brokers sharing `broker`'s store), the agents are spread over all of
    /// them in turn.
    static func run(count: Int, allIdentities: Bool, lines: Int, broker: BrokerProcess, replicas: [BrokerProcess] = []) async throws -> Result {
        let endpoints = try ([broker] + replicas).map { try LoadEndpoint(url: $0.url) }
        return try await LoadOperator.using(broker) { operatorClient in
            let document = ScaledCluster.document(nodes: count, allIdentities: allIdentities)
            let clock = ContinuousClock()
            let start = clock.now
            let created = try await operatorClient.createContext(document: document, name: "bench")
            let id = created.id
            let credentials = created.credentials.sorted {
                ($0.node.hasPrefix("rabbitmq-head") ? 0 : 1, $0.node) < ($1.node.hasPrefix("rabbitmq-head") ? 0 : 1, $1.node)
            }
            let dependents = credentials.count - 1
            let checkInsSent = Shared(0)
            let headSent = Shared<ContinuousClock.Instant?>(nil)
            let (allSent, allSentSignal) = AsyncStream.makeStream(of: Void.self)
            if dependents == 0 { allSentSignal.finish() }

            @Sendable func agent(_ credential: NodeCredential, _ index: Int, on shard: LoadShard) throws -> LoadAgent {
                try LoadAgent(
                    context: id,
                    node: credential.node,
                    token: credential.token,
                    identity: ScaledCluster.identity(credential.node, index),
                    lines: lines,
                    waitSeconds: 60,
                    encoder: WireFormat.encoder(),
                    endpoint: endpoints[index % endpoints.count],
                    eventLoop: shard.eventLoop
                )
            }

            let outcomes = try await ShardedTasks.run(count: credentials.count) { shard, index in
                if index == 0 {
                    // Every dependent's check-in is on its way; the head goes once the broker has them all (each is then
                    // held until the head's check-in releases it). The operator's polls count as requests.
                    for await _ in allSent {}
                    let polls = try await LoadOperator.using(broker) { try await $0.waitUntilRegistered(dependents, in: id) }
                    var agent = try agent(credentials[0], 0, on: shard)
                    headSent.update { $0 = clock.now }
                    let (checkIn, _) = try await agent.checkInUntilReleased()
                    try await agent.finish()
                    return Outcome(latency: nil, requests: polls + checkIn + 1, answerBytes: 0, client: agent.client)
                }
                var agent = try agent(credentials[index], index, on: shard)
                if checkInsSent.update({
                    $0 += 1
                    return $0
                }) == dependents {
                    allSentSignal.finish()
                }
                let (requests, answerBytes) = try await agent.checkInUntilReleased()
                let released = clock.now
                let latency = headSent.value.map { (released - $0).seconds * 1_000 }
                try await agent.finish()
                return Outcome(latency: latency, requests: requests + 1, answerBytes: answerBytes, client: agent.client)
            }
            let elapsed = (clock.now - start).seconds
            // Closing thousands of connections is not part of the load, nor of whatever is measured next.
            await LoadClient.close(outcomes.map(\.client))
            let status = try await operatorClient.status(of: id)
            guard status.complete && status.allOk else { throw ValidationError("the context did not complete all ok: \(status)") }
            var latencies = Samples()
            for latency in outcomes.compactMap(\.latency) { latencies.add(latency) }
            // The create request, then every agent's.
            let total = 1 + outcomes.reduce(0) { $0 + $1.requests }
            return Result(
                figures: [
                    "complete_s": elapsed,
                    "requests_per_s": Double(total) / elapsed,
                    "release_p50_ms": latencies.percentile(50),
                    "release_p99_ms": latencies.percentile(99),
                    "release_max_ms": latencies.maximum,
                    // The size of one dependent's answer as JSON (with all identities it grows with N).
                    "answer_kb": Double(outcomes.first { $0.answerBytes > 0 }?.answerBytes ?? 0) / 1_024,
                ],
                requests: total
            )
        }
    }

    /// One-to-one release latency, the push path without fan-out: for each of `rounds` provider/requirer pairs,
    /// the requirer checks in (held as its long-poll), then, once the broker has it, the provider checks in; the
    /// time from sending the provider's check-in to the requirer's answer arriving is one sample.
    static func releaseProbe(rounds: Int, broker: BrokerProcess) async throws -> Samples {
        let endpoint = try LoadEndpoint(url: broker.url)
        return try await LoadOperator.using(broker) { operatorClient in
            let created = try await operatorClient.createContext(document: ScaledCluster.probePairs(rounds), name: "release-probe")
            let tokens = Dictionary(uniqueKeysWithValues: created.credentials.map { ($0.node, $0.token) })
            let encoder = WireFormat.encoder()
            let clock = ContinuousClock()
            var samples = Samples()
            var clients: [LoadClient] = []
            func agent(_ node: String, _ index: Int) throws -> LoadAgent {
                guard let token = tokens[node] else { throw ValidationError("the probe context has no \(node)") }
                return try LoadAgent(
                    context: created.id,
                    node: node,
                    token: token,
                    identity: ScaledCluster.identity(node, index),
                    lines: 0,
                    waitSeconds: 30,
                    encoder: encoder,
                    endpoint: endpoint
                )
            }
            for round in 0..<rounds {
                let requirer = try agent("probe-requirer-\(round)-0", 2 * round + 1)
                var provider = try agent("probe-provider-\(round)-0", 2 * round + 2)
                let answered = Task { () throws -> (ContinuousClock.Instant, LoadClient) in
                    var requirer = requirer
                    _ = try await requirer.checkInUntilReleased()
                    return (clock.now, requirer.client)
                }
                // The requirer's check-in must reach the broker first, so the sample is a release of a waiting node.
                _ = try await operatorClient.waitUntilRegistered(2 * round + 1, in: created.id, interval: .milliseconds(1))
                let sent = clock.now
                _ = try await provider.checkInUntilReleased()
                let (arrived, client) = try await answered.value
                samples.add((arrived - sent).seconds * 1_000)
                clients += [client, provider.client]
            }
            await LoadClient.close(clients)
            return samples
        }
    }

    /// Requests per second of `/v1/healthz` under the same client load: N concurrent clients, each on a
    /// connection of its own, sending `requestsPerAgent` requests one after another.
    static func baseline(count: Int, requestsPerAgent: Int, broker: BrokerProcess) async throws -> Double {
        let endpoint = try LoadEndpoint(url: broker.url)
        let health = LoadRequest.get(BrokerRoutes.health, at: endpoint)
        let clock = ContinuousClock()
        let start = clock.now
        let clients = try await ShardedTasks.run(count: count) { shard, _ in
            var client = LoadClient(endpoint: endpoint, on: shard.eventLoop)
            for _ in 0..<requestsPerAgent { _ = try await client.call(health) }
            return client
        }
        let elapsed = (clock.now - start).seconds
        await LoadClient.close(clients)
        return Double(count * requestsPerAgent) / elapsed
    }
}
