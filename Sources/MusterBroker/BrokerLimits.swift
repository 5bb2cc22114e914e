/// What one client, one node or one slow reader may cost the broker: timeouts, caps and quotas.
///
/// Every limit has a default meant for a real deployment (`muster broker` exposes each as a flag); tests lower
/// them to reach the edge quickly. The README's Security section states the same numbers.
public struct BrokerLimits: Sendable, Hashable {
    /// A new connection must send a complete request head within this time, or it is closed (a client that
    /// connects and sends nothing, or trickles its headers, holds no socket for long).
    public var headerTimeout: Duration
    /// A keep-alive connection with no request in progress is closed after this long. Long-polls and event
    /// streams are requests in progress: they are not cut by it.
    public var idleTimeout: Duration
    /// The most connections open at once. A new connection beyond it closes the longest-idle one to make room;
    /// when every connection is busy, the new one is closed. Lowered at start to fit the open-files limit.
    public var maxConnections: Int
    /// Event and output streams one token may hold open at once; one more is refused with 429 `too-many-streams`.
    public var maxStreamsPerToken: Int
    /// Frames (a frame is everything one commit published to a stream) an event or output stream may have
    /// waiting for a slow reader. A reader that falls further behind has its stream closed; it resumes from its
    /// last id (`Last-Event-ID`) and misses nothing.
    public var streamBuffer: Int
    /// Output lines kept per node (its current run); beyond it the oldest are dropped and a marker line says
    /// how many.
    public var maxOutputLines: Int
    /// Bytes of output text kept per node (its current run), dropped the same way.
    public var maxOutputBytes: Int
    /// Script runs kept in a node's timeline (its current run); further runs still run and stream their
    /// output, but are not recorded in the timeline.
    public var maxTimelineEntries: Int
    /// Connections the kernel queues until the broker accepts them (capped by `net.core.somaxconn`). With 256,
    /// Hummingbird's default, a burst of 10,000 agents overflowed the queue, and each dropped connection waited a
    /// second for its retried SYN.
    public var listenBacklog = 4_096
    /// Agents' requests routed at once (read, authenticated, handled); more wait their turn, in order, before
    /// routing. A request being routed costs some 25 KB, one waiting a few hundred bytes: a burst of
    /// 10,000 agents stays within memory, and the state commits hundreds at a time anyway.
    public var maxRouting = 256
    /// Commands stored between two snapshots of the engine, at least: a restart loads the last snapshot and
    /// replays the commands after it.
    public var snapshotInterval = 20_000
    /// Commands stored between two snapshots per node the broker holds, when that is more than
    /// ``snapshotInterval``. A snapshot costs in proportion to the nodes, so its cost per command stays the same,
    /// and a 10,000-node boot (about two commands per node) is not stalled by encoding the whole state halfway.
    public var snapshotCommandsPerNode = 4

    /// The commands between two snapshots when the broker holds `nodes` nodes.
    public func snapshotInterval(nodes: Int) -> Int { max(snapshotInterval, snapshotCommandsPerNode * nodes) }

    /// Creates limits; every argument has the documented default.
    public init(
        headerTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(75),
        maxConnections: Int = 16_384,
        maxStreamsPerToken: Int = 64,
        streamBuffer: Int = 4_096,
        maxOutputLines: Int = 50_000,
        maxOutputBytes: Int = 16 * 1024 * 1024,
        maxTimelineEntries: Int = 1_000
    ) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.maxStreamsPerToken = maxStreamsPerToken
        self.streamBuffer = streamBuffer
        self.maxOutputLines = maxOutputLines
        self.maxOutputBytes = maxOutputBytes
        self.maxTimelineEntries = maxTimelineEntries
    }

    /// Open files kept free for everything that is not a connection (the state database and its journal, the
    /// listening socket, agent binaries being served, the log).
    public static let reservedFiles = 64
}
