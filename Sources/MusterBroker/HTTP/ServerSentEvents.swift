import Foundation
import MusterCore
import NIOCore

/// Formats server-sent events (the `text/event-stream` format).
enum ServerSentEvents {
    /// One message: `id:`, `event:` and the data split over `data:` lines, then a blank line.
    static func message(id: String, event: String, data: Data) -> ByteBuffer {
        var buffer = ByteBuffer()
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

/// What a stream writer receives: an item, or a tick to write a heartbeat.
enum StreamItem<Element: Sendable>: Sendable {
    case element(Element)
    case heartbeat
}

extension AsyncStream where Element: Sendable {
    /// Interleaves a heartbeat tick every `interval` with the elements of `self`; ends when `self` ends, or when
    /// the reader falls more than `buffer` elements behind (it then reconnects and resumes from its last id).
    func withHeartbeats(every interval: Duration, buffer: Int) -> AsyncStream<StreamItem<Element>> {
        let (stream, continuation) = AsyncStream<StreamItem<Element>>.makeStream(bufferingPolicy: .bufferingOldest(buffer))
        let source = self
        let pump = Task {
            for await element in source {
                if case .dropped = continuation.yield(.element(element)) { break }
            }
            continuation.finish()
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if case .terminated = continuation.yield(.heartbeat) { break }
            }
        }
        continuation.onTermination = { _ in
            pump.cancel()
            ticker.cancel()
        }
        return stream
    }
}
