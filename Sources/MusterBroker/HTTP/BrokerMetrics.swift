import Foundation
import MusterCore
import Prometheus
import Synchronization

/// The broker's Prometheus metrics, in a registry of its own (no global metrics system), served on `/metrics`.
///
/// Request counts and latencies are recorded as requests finish; node counts by state, open streams and
/// waiting long-polls are sampled from the state when `/metrics` is read. Nothing here carries a secret.
public final class BrokerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    private static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(5), .seconds(30), .seconds(60),
    ]

    private struct RequestKey: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    /// The counter and histogram of each (method, route, status) seen, so a request does not look them up
    /// in the registry by name and labels.
    private let requestMetrics = Mutex<[RequestKey: (count: Counter, duration: Histogram<Duration>)]>([:])
    /// The store's histogram of each operation (one store, one kind, per broker).
    private let storeMetrics = Mutex<[String: Histogram<Duration>]>([:])

    /// The connections being counted, once the server listens.
    private let connections = Mutex<ConnectionLimiter?>(nil)
    /// The gate requests wait at before routing, once the server listens.
    private let routing = Mutex<RoutingGate?>(nil)
    /// What the counters showed at the last render: Prometheus counters only go up, by the difference.
    private let reported = Mutex<(state: BrokerCounters, connections: ConnectionLimiter.Counts)>((BrokerCounters(), .init()))

    /// Creates the metrics.
    public init() {}

    /// Counts this server's connections from now on.
    func watch(_ limiter: ConnectionLimiter) {
        connections.withLock { $0 = limiter }
    }

    /// Reports how many requests wait at `gate` from now on.
    func watch(_ gate: RoutingGate) {
        routing.withLock { $0 = gate }
    }

    /// Records one finished request.
    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let key = RequestKey(method: method, route: route, status: status)
        let metrics = requestMetrics.withLock { cached in
            if let found = cached[key] { return found }
            let made = (
                count: registry.makeCounter(
                    descriptor: .init(
                        namespace: "muster",
                        metricName: "http_requests",
                        unitName: "total",
                        helpText: "HTTP requests by method, route and status"
                    ),
                    labels: [("method", method), ("route", route), ("status", String(status))]
                ),
                duration: registry.makeDurationHistogram(
                    descriptor: .init(
                        namespace: "muster",
                        metricName: "http_request_duration",
                        unitName: "seconds",
                        helpText: "HTTP request latency"
                    ),
                    labels: [("method", method), ("route", route)],
                    buckets: Self.latencyBuckets
                )
            )
            cached[key] = made
            return made
        }
        metrics.count.increment()
        metrics.duration.record(duration)
    }

    /// Records one call of the state's store (see ``MeasuredStore``); the histogram is looked up in the registry
    /// once per kind and operation, not on every commit.
    func recordStore(kind: String, operation: String, duration: Duration) {
        let histogram = storeMetrics.withLock { cached in
            if let found = cached[operation] { return found }
            let made = registry.makeDurationHistogram(
                descriptor: .init(
                    namespace: "muster",
                    metricName: "store_operation_duration",
                    unitName: "seconds",
                    helpText: "Time the state's store took per operation (commit, load, events, output)"
                ),
                labels: [("kind", kind), ("operation", operation)],
                buckets: Self.latencyBuckets
            )
            cached[operation] = made
            return made
        }
        histogram.record(duration)
    }

    /// The Prometheus text, after sampling the state.
    func render(state: BrokerState) async -> String {
        let sample = await state.metricsSample()
        for nodeState in NodeState.allCases {
            registry.makeGauge(
                descriptor: .init(namespace: "muster", metricName: "nodes", unitName: "", helpText: "Nodes by state, across contexts"),
                labels: [("state", nodeState.rawValue)]
            ).set(Double(sample.nodes[nodeState] ?? 0))
        }
        registry.makeGauge(
            descriptor: .init(namespace: "muster", metricName: "open_streams", unitName: "", helpText: "Open event and output streams")
        ).set(Double(sample.streams))
        registry.makeGauge(
            descriptor: .init(namespace: "muster", metricName: "waiting_long_polls", unitName: "", helpText: "Agents waiting in a long-poll")
        ).set(Double(sample.waiters))
        if let lag = sample.replicationLag {
            registry.makeGauge(
                descriptor: .init(
                    namespace: "muster",
                    metricName: "replication_lag",
                    unitName: "seconds",
                    helpText: "Seconds from another replica's commit to its application here (the last change followed)"
                )
            ).set(lag)
        }
        let connections = connections.withLock { $0 }?.counts ?? .init()
        registry.makeGauge(
            descriptor: .init(namespace: "muster", metricName: "open_connections", unitName: "", helpText: "Open HTTP connections")
        ).set(Double(connections.open))
        registry.makeGauge(
            descriptor: .init(
                namespace: "muster",
                metricName: "routing_waiting",
                unitName: "",
                helpText: "Requests waiting their turn to be routed (--max-routing)"
            )
        ).set(Double(routing.withLock { $0 }?.waiting ?? 0))
        let (before, connectionsBefore) = reported.withLock { reported in
            defer { reported = (sample.counters, connections) }
            return reported
        }
        let increments: [(name: String, help: String, by: Int)] = [
            (
                "output_lines_dropped", "Output lines dropped by the per-node output quota (oldest first)",
                sample.counters.outputLinesDropped - before.outputLinesDropped
            ),
            (
                "timeline_entries_dropped", "Script runs not recorded because a node's timeline was full",
                sample.counters.timelineEntriesDropped - before.timelineEntriesDropped
            ),
            (
                "streams_dropped", "Event and output streams closed because their reader fell behind",
                sample.counters.streamsDropped - before.streamsDropped
            ),
            ("streams_refused", "Streams refused because their token had the most open", sample.counters.streamsRefused - before.streamsRefused),
            (
                "replica_changes_followed", "Changes committed by other replicas and applied here",
                sample.counters.changesFollowed - before.changesFollowed
            ),
            ("connections_shed", "Idle connections closed to make room for new ones", connections.shed - connectionsBefore.shed),
            ("connections_refused", "New connections closed because every open one was busy", connections.refused - connectionsBefore.refused),
            (
                "connection_header_timeouts", "Connections closed for not sending a request head in time",
                connections.headerTimeouts - connectionsBefore.headerTimeouts
            ),
            (
                "memory_returns", "Times freed memory was handed back to the system after a burst of connections closed",
                connections.memoryReturns - connectionsBefore.memoryReturns
            ),
        ]
        for increment in increments {
            let counter = registry.makeCounter(
                descriptor: .init(namespace: "muster", metricName: increment.name, unitName: "total", helpText: increment.help)
            )
            if increment.by > 0 { counter.increment(by: Int64(increment.by)) }
        }
        return registry.emitToString()
    }
}
