import Foundation
import MusterCore
import NIOCore

/// Formats server-sent events (the `text/event-stream` format).
enum ServerSentEvents {
    /// One message: `id:`, `event:` and the data split over `data:` lines, then a blank line.
    static func message(id: String, event: String, data: some Collection<UInt8>) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(data.count + id.utf8.count + event.utf8.count + 24)
        buffer.writeString("id: \(id)\nevent: \(event)\n")
        // JSON from the wire encoder has no raw newlines, but a multi-line payload must still be split.
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            buffer.writeString("data: ")
            buffer.writeBytes(line)
            buffer.writeString("\n")
        }
        buffer.writeString("\n")
        return buffer
    }

    /// A comment line that keeps idle connections (and proxies) open, and lets the server notice a closed one.
    static let heartbeat: ByteBuffer = ByteBuffer(string: ": heartbeat\n\n")

    /// The first bytes of every stream: tell the client how long to wait before reconnecting.
    static let preamble: ByteBuffer = ByteBuffer(string: "retry: 1000\n\n")
}

/// One server-sent event, encoded once: every stream it goes to writes the same bytes (a `ByteBuffer` shares its
/// storage), so a change costs one encoding however many followers there are.
struct StreamFrame: Sendable {
    /// The item's position (an event's sequence number, an output line's index): its SSE `id:`.
    var position: Int
    /// The whole message.
    var bytes: ByteBuffer

    /// Encodes an event (see ``ContextEvent/wireJSON()``).
    static func event(_ event: ContextEvent) throws -> StreamFrame {
        let position = Int(clamping: event.sequence)
        return StreamFrame(
            position: position,
            bytes: ServerSentEvents.message(id: String(position), event: event.change.kind, data: try event.wireJSON())
        )
    }

    /// Several consecutive frames as one (the position of the last): a follower gets everything one change
    /// published in a single write, which matters when one change releases thousands of nodes.
    static func joined(_ frames: [StreamFrame]) -> StreamFrame? {
        guard let last = frames.last else { return nil }
        if frames.count == 1 { return last }
        var bytes = ByteBuffer()
        bytes.reserveCapacity(frames.reduce(0) { $0 + $1.bytes.readableBytes })
        for frame in frames { bytes.writeImmutableBuffer(frame.bytes) }
        return StreamFrame(position: last.position, bytes: bytes)
    }

    /// Encodes an output line.
    static func output(_ line: OutputLine, encoder: JSONEncoder) throws -> StreamFrame {
        StreamFrame(
            position: line.index,
            bytes: ServerSentEvents.message(id: String(line.index), event: BrokerProtocol.outputEvent, data: try encoder.encode(line))
        )
    }
}

/// What a stream's writer receives: a message, or a tick to write a heartbeat.
enum StreamItem: Sendable {
    case frame(StreamFrame)
    case heartbeat
}
