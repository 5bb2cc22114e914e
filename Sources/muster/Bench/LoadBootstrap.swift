import NIOCore
import NIOPosix

/// Opens the load generator's TCP connections: on NIO's shared event loops, with Nagle's algorithm off (requests
/// are written whole and must go out at once), plain TCP (the bench broker listens on loopback without TLS).
enum LoadBootstrap {
    /// Connects to `endpoint`; `initialize` adds the channel's handlers, on its event loop, before any byte is read.
    static func connect(
        to endpoint: LoadEndpoint,
        initialize: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try initialize(channel.pipeline.syncOperations) }
            }
            .connect(to: endpoint.address)
            .get()
    }
}
