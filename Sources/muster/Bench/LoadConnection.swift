import NIOCore

/// One keep-alive HTTP/1.1 connection from the load generator to the broker, one request at a time.
///
/// This is the bench's own minimal client, meant to cost the bench as little as possible so that a benchmark
/// measures the broker and not itself: requests are encoded once (``LoadRequest``) and written as they are,
/// responses are parsed just enough to get the status and the body (``LoadResponseParser``), nothing is decoded
/// here. It speaks plain HTTP over loopback only (the bench broker's), with no TLS, redirects, retries or
/// timeouts of its own: a long-poll simply stays open until the broker answers.
struct LoadConnection: Sendable {
    let channel: any Channel

    /// Whether the connection is still open (the broker closes an idle one after its idle timeout).
    var isOpen: Bool { channel.isActive }

    /// Opens a connection to `endpoint` on `eventLoop` (`nil`: any of the shared ones).
    static func open(
        to endpoint: LoadEndpoint,
        on eventLoop: (any EventLoop)?,
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> LoadConnection {
        LoadConnection(channel: try await LoadBootstrap.connect(to: endpoint, on: eventLoop) { try $0.addHandler(LoadConnectionHandler()) })
    }

    /// Sends `request` and waits for its response, whatever its status.
    func send(_ request: LoadRequest, isolation: isolated (any Actor)? = #isolation) async throws -> LoadResponse {
        let response = channel.eventLoop.makePromise(of: LoadResponse.self)
        channel.writeAndFlush(LoadConnectionHandler.Exchange(request: request.bytes, response: response), promise: nil)
        return try await response.futureResult.value()
    }

    /// Starts closing the connection.
    func close() {
        channel.close(promise: nil)
    }

    /// Waits until the connection is closed.
    func closed() async {
        try? await channel.closeFuture.get()
    }
}
