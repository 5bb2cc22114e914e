import ArgumentParser
import MusterBroker

/// `muster broker`'s timeouts, caps and quotas (see the README's Security section).
struct BrokerLimitOptions: ParsableArguments {
    private static let defaults = BrokerLimits()

    @Option(help: ArgumentHelp("Seconds a new connection has to send its first request head.", valueName: "seconds"))
    var headerTimeout: Double = Self.seconds(defaults.headerTimeout)

    @Option(help: ArgumentHelp("Seconds a keep-alive connection may sit idle between requests.", valueName: "seconds"))
    var idleTimeout: Double = Self.seconds(defaults.idleTimeout)

    @Option(
        help: ArgumentHelp(
            "Most connections open at once (lowered to fit the open-files limit); beyond it the longest-idle one is closed.",
            valueName: "n"
        )
    )
    var maxConnections = defaults.maxConnections

    @Option(help: ArgumentHelp("Most event and output streams one token may hold open; one more is refused (429).", valueName: "n"))
    var maxStreamsPerToken = defaults.maxStreamsPerToken

    @Option(
        help: ArgumentHelp(
            "Frames (what one change published) a stream may have waiting for a slow reader before it is closed (the reader resumes).",
            valueName: "n"
        )
    )
    var streamBuffer = defaults.streamBuffer

    @Option(help: ArgumentHelp("Output lines kept per node; beyond it the oldest are dropped, with a marker line.", valueName: "n"))
    var maxOutputLines = defaults.maxOutputLines

    @Option(help: ArgumentHelp("Bytes of output kept per node; beyond it the oldest lines are dropped, with a marker line.", valueName: "bytes"))
    var maxOutputBytes = defaults.maxOutputBytes

    @Option(help: ArgumentHelp("Script runs kept in a node's timeline; further runs are not recorded.", valueName: "n"))
    var maxTimelineEntries = defaults.maxTimelineEntries

    @Option(
        help: ArgumentHelp(
            "Agents' requests routed at once; more wait their turn in order (a held long-poll does not count).",
            valueName: "n"
        )
    )
    var maxRouting = defaults.maxRouting

    func validate() throws {
        for (name, value) in [("--header-timeout", headerTimeout), ("--idle-timeout", idleTimeout)] where !(value > 0 && value <= 86_400) {
            throw ValidationError("\(name) must be more than 0 and at most 86400 seconds")
        }
        let counts = [
            ("--max-connections", maxConnections), ("--max-streams-per-token", maxStreamsPerToken), ("--stream-buffer", streamBuffer),
            ("--max-output-lines", maxOutputLines), ("--max-output-bytes", maxOutputBytes), ("--max-timeline-entries", maxTimelineEntries),
            ("--max-routing", maxRouting),
        ]
        for (name, value) in counts where value < 1 { throw ValidationError("\(name) must be at least 1") }
    }

    /// The limits to give the broker.
    var limits: BrokerLimits {
        var limits = BrokerLimits(
            headerTimeout: .milliseconds(Int64(headerTimeout * 1_000)),
            idleTimeout: .milliseconds(Int64(idleTimeout * 1_000)),
            maxConnections: maxConnections,
            maxStreamsPerToken: maxStreamsPerToken,
            streamBuffer: streamBuffer,
            maxOutputLines: maxOutputLines,
            maxOutputBytes: maxOutputBytes,
            maxTimelineEntries: maxTimelineEntries
        )
        limits.maxRouting = maxRouting
        return limits
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

extension BrokerServerConfiguration {
    /// This configuration with the limits given on the command line.
    func limited(by options: BrokerLimitOptions) -> BrokerServerConfiguration {
        var configuration = self
        configuration.limits = options.limits
        return configuration
    }
}
