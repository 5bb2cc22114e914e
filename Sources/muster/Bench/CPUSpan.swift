import Foundation

/// The CPU time the broker's process and this one (the load generator) used over a span of the bench, and what
/// that comes to per agent and per request: the broker's own cost, next to what the load cost to make.
struct CPUSpan {
    private let brokers: [pid_t]
    private let brokerStart: Double
    private let store: pid_t?
    private let storeStart: Double
    private let loadStart: Double

    /// Starts a span now, for one broker.
    init(broker: pid_t) {
        self.init(brokers: [broker], store: nil)
    }

    /// Starts a span now, for brokers (replicas) and the server of the store they share, if it runs here.
    init(brokers: [pid_t], store: pid_t?) {
        self.brokers = brokers
        self.store = store
        brokerStart = brokers.map { Memory.cpuSeconds(pid: $0) }.reduce(0, +)
        storeStart = store.map { Memory.treeCPUSeconds(pid: $0) } ?? 0
        loadStart = Self.ownSeconds()
    }

    /// The span's figures so far, for a load of `agents` agents that sent `requests` requests: CPU seconds of each
    /// process (`broker_cpu_s`, `load_cpu_s`), and each per agent and per request in microseconds.
    func figures(agents: Int, requests: Int) -> [String: Double] {
        let brokerSeconds = brokers.map { Memory.cpuSeconds(pid: $0) }.reduce(0, +) - brokerStart
        let loadSeconds = Self.ownSeconds() - loadStart
        let perAgent = 1_000_000 / Double(max(1, agents))
        let perRequest = 1_000_000 / Double(max(1, requests))
        var storeFigures: [String: Double] = [:]
        if let store {
            let storeSeconds = Memory.treeCPUSeconds(pid: store) - storeStart
            storeFigures = ["store_cpu_s": storeSeconds, "store_cpu_us_per_agent": storeSeconds * perAgent]
        }
        return storeFigures.merging([
            "broker_cpu_s": brokerSeconds, "load_cpu_s": loadSeconds,
            "broker_cpu_us_per_agent": brokerSeconds * perAgent, "broker_cpu_us_per_request": brokerSeconds * perRequest,
            "load_cpu_us_per_agent": loadSeconds * perAgent, "load_cpu_us_per_request": loadSeconds * perRequest,
        ]) { $1 }
    }

    /// CPU seconds (user + system) this process has used, to the microsecond (`/proc`'s figures count whole clock
    /// ticks, too coarse for a small load).
    private static func ownSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        let who = RUSAGE_SELF.rawValue
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return Memory.cpuSeconds(pid: getpid()) }
        let seconds = { (time: timeval) in Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
