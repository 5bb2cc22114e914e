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

    /// Creates the metrics.
    public init() {}

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
        return registry.emitToString()
    }
}
