import Foundation
import Hummingbird
import MusterCore
import NIOCore

/// A server-sent event stream that first replays what is stored after the client's position, then follows live
/// items, so that a client resuming from its last id sees every item once, in order.
///
/// Positions are the items' own ids (an event's sequence number, an output line's index). The subscription is
/// taken before the replay starts and `storedThrough` is the last position in the store at that moment, so the
/// replay and the live items neither overlap nor leave a gap. Live items arrive already encoded (one encoding
/// shared by every follower); stored ones are encoded here, a page at a time.
struct ReplayingStream<Item: Sendable>: Sendable {
    /// The last position the client already has (replay starts after it).
    var after: Int
    /// The last position stored when the live subscription began.
    var storedThrough: Int
    /// Stored items after a position, oldest first, a page at a time.
    var page: @Sendable (_ after: Int) async throws -> [Item]
    /// Encodes a stored item.
    var encode: @Sendable (Item, JSONEncoder) throws -> StreamFrame
    /// The live frames, interleaved with heartbeat ticks; it ends when the broker closes the stream.
    var live: AsyncStream<StreamItem>

    func response(headers: HTTPFields) -> Response {
        Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                try await writer.write(ServerSentEvents.preamble)
                var cursor = after
                if cursor < storedThrough {
                    let encoder = WireFormat.encoder()
                    while cursor < storedThrough {
                        let items = try await page(cursor)
                        guard !items.isEmpty else { break }
                        var last = cursor
                        for item in items {
                            let frame = try encode(item, encoder)
                            last = frame.position
                            if frame.position <= storedThrough { try await writer.write(frame.bytes) }
                        }
                        guard last > cursor else { break }
                        cursor = last
                    }
                }
                cursor = max(cursor, storedThrough)
                for await item in live {
                    switch item {
                    case .frame(let frame) where frame.position > cursor:
                        try await writer.write(frame.bytes)
                        cursor = frame.position
                    case .frame:
                        continue
                    case .heartbeat:
                        try await writer.write(ServerSentEvents.heartbeat)
                    }
                }
                try await writer.finish(nil)
            }
        )
    }
}
