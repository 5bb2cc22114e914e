import NIOCore

/// The channel handler under an ``EventReader``'s connection: parses the event stream's response with
/// ``LoadResponseParser`` and counts its events with ``ServerSentEventCounter``, recording both in an
/// ``EventTally``. A status other than 200 closes the connection (the reader then tries again).
final class LoadEventStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let tally: EventTally
    private var parser = LoadResponseParser()
    private var counter = ServerSentEventCounter()
    private var refused = false

    init(tally: EventTally) {
        self.tally = tally
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { bytes in
                try parser.parse(bytes) { part in
                    switch part {
                    case .head(let status, _, _):
                        if status == 200 { tally.markOpened() } else { refused = true }
                    case .body(let piece):
                        if !refused { counter.feed(piece) }
                    case .end:
                        refused = true
                    }
                }
            }
        } catch {
            refused = true
        }
        tally.record(counter.takeEvents(), lastID: counter.lastID)
        if refused { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
