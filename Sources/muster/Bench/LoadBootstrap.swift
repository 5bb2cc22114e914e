import NIOCore
import NIOPosix

/// Opens the load generator's TCP connections: on NIO's shared event loops, with Nagle's algorithm off (requests
/// are written whole and must go out at once), plain TCP (the bench broker listens on loopback without TLS).
enum LoadBootstrap {
    /// Connects to `endpoint` on `eventLoop` (`nil`: any of the shared ones); `initialize` adds the channel's
    /// handlers, on its event loop, before any byte is read.
    static func connect(
        to endpoint: LoadEndpoint,
        on eventLoop: (any EventLoop)? = nil,
        isolation: isolated (any Actor)? = #isolation,
        initialize: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) async throws -> any Channel {
        try await ClientBootstrap(group: eventLoop ?? MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try initialize(channel.pipeline.syncOperations) }
            }
            .connect(to: endpoint.address)
            .value()
    }
}
