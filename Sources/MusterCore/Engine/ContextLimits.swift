import Foundation

/// The time limits of a context, as Nimbus's `--hours` and more: what the broker enforces by itself, even when
/// nobody watches.
///
/// - A **boot timeout**: a launched node that has not checked in after this long becomes `timed-out` (and its
///   machine is stopped). On EC2 this catches an image without an agent, a security group that blocks the
///   broker, a wrong region.
/// - A **lease**: when it ends, the context is terminated: every node is stopped, ok or not (instances are also
///   started with shutdown behaviour `terminate`), so a forgotten cluster does not run up a bill.
/// - A **deadline** (`muster up --timeout`): a context not complete by then has its unfinished nodes
///   `timed-out`, so it ends with an error report instead of waiting for ever.
public struct ContextLimits: Sendable, Hashable, Codable {
    /// How long a launched node may take to check in, in seconds.
    public var bootTimeoutSeconds: Int?
    /// When the lease ends.
    public var leaseEnds: Date?
    /// When the context must be complete.
    public var completeBy: Date?

    /// Creates limits (none by default).
    public init(bootTimeoutSeconds: Int? = nil, leaseEnds: Date? = nil, completeBy: Date? = nil) {
        self.bootTimeoutSeconds = bootTimeoutSeconds
        self.leaseEnds = leaseEnds
        self.completeBy = completeBy
    }

    /// Whether no limit is set.
    public var isEmpty: Bool { bootTimeoutSeconds == nil && leaseEnds == nil && completeBy == nil }
}
