import NIOCore

/// The channel handler under a ``LoadConnection``: writes each request, parses the responses with
/// ``LoadResponseParser``, and completes each request's promise with its response, in the order sent.
final class LoadConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Exchange
    typealias OutboundOut = ByteBuffer

    /// A request's bytes and the promise of its response.
    struct Exchange: Sendable {
        var request: ByteBuffer
        var response: EventLoopPromise<LoadResponse>
    }

    private var parser = LoadResponseParser()
    private var waiting = CircularBuffer<EventLoopPromise<LoadResponse>>()
    private var closed = false
    private var status = 0
    private var closes = false
    private var body: [UInt8] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard !closed else {
            let failure = LoadFailure("the connection to the broker is closed")
            exchange.response.fail(failure)
            promise?.fail(failure)
            return
        }
        waiting.append(exchange.response)
        context.write(wrapOutboundOut(exchange.request), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { bytes in try parser.parse(bytes) { receive($0) } }
        } catch {
            failAll(LoadFailure("the broker sent a response this client cannot read: \(error)"))
            context.close(promise: nil)
            return
        }
        if closes && parser.isIdle { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(LoadFailure("the broker closed the connection before it answered"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(LoadFailure("the connection to the broker failed: \(error)"))
        context.close(promise: nil)
    }

    private func receive(_ part: LoadResponseParser.Part) {
        switch part {
        case .head(let status, let contentLength, let closes):
            self.status = status
            self.closes = closes
            body = []
            if let contentLength { body.reserveCapacity(contentLength) }
        case .body(let bytes):
            body.append(contentsOf: bytes)
        case .end:
            let response = LoadResponse(status: status, body: body)
            body = []
            if let promise = waiting.popFirst() { promise.succeed(response) }
        }
    }

    private func failAll(_ failure: LoadFailure) {
        closed = true
        while let promise = waiting.popFirst() { promise.fail(failure) }
    }
}
