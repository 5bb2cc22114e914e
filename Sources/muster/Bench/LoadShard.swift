import NIOCore
import NIOPosix

/// An actor that runs on one of NIO's event loops. Virtual agents isolated to it run their code on the loop that
/// also serves their connections: a request written and its response read cost no hop between the event loop's
/// thread and Swift's thread pool (those hops, two per request, were most of the load generator's own CPU).
actor LoadShard {
    /// The event loop the shard runs on, and on which its agents' connections are opened.
    nonisolated let eventLoop: any EventLoop

    nonisolated var unownedExecutor: UnownedSerialExecutor { eventLoop.executor.asUnownedSerialExecutor() }

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// One shard per event loop of NIO's shared group.
    static func all() -> [LoadShard] {
        Array(MultiThreadedEventLoopGroup.singleton.makeIterator()).map { LoadShard(eventLoop: $0) }
    }
}
