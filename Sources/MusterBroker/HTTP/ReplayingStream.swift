import Foundation
import Hummingbird
import MusterCore
import NIOCore

/// A server-sent event stream that first replays what is stored after the client's position, then follows live
/// items, so that a client resuming from its last id sees every item once, in order.
///
/// Positions are the items' own ids (an event's sequence number, an output line's index). The subscription is
/// taken before the replay starts and `storedThrough` is the last position in the store at that moment, so the
/// replay and the live items neither overlap nor leave a gap.
struct ReplayingStream<Item: Encodable & Sendable>: Sendable {
    /// The last position the client already has (replay starts after it).
    var after: Int
    /// The last position stored when the live subscription began.
    var storedThrough: Int
    /// Stored items after a position, oldest first, a page at a time.
    var page: @Sendable (_ after: Int) throws -> [Item]
    /// The live items, interleaved with heartbeat ticks.
    var live: AsyncStream<StreamItem<Item>>
    /// An item's position.
    var position: @Sendable (Item) -> Int
    /// An item's SSE `event:` name.
    var name: @Sendable (Item) -> String

    func response(headers: HTTPFields) -> Response {
        Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                let encoder = WireFormat.encoder()
                func send(_ item: Item) async throws {
                    try await writer.write(ServerSentEvents.message(id: String(position(item)), event: name(item), data: try encoder.encode(item)))
                }
                try await writer.write(ServerSentEvents.preamble)
                var cursor = after
                while cursor < storedThrough {
                    let items = try page(cursor)
                    guard let last = items.last else { break }
                    for item in items where position(item) <= storedThrough { try await send(item) }
                    cursor = position(last)
                }
                cursor = max(cursor, storedThrough)
                for await tick in live {
                    switch tick {
                    case .element(let item) where position(item) > cursor:
                        try await send(item)
                        cursor = position(item)
                    case .element:
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
