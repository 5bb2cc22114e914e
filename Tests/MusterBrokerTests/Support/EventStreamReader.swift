import AsyncHTTPClient
import Foundation
import MusterCore
import NIOCore
import NIOHTTP1

/// Reads a server-sent event stream over a real connection, independently of MusterClient, so that the broker's
/// wire format is tested on its own.
struct EventStreamReader {
    struct Message {
        var id: String?
        var event: String?
        var data: String
    }

    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private var buffer = ""
    private let task: Task<Void, Never>?

    static func open(_ broker: TestBroker, path: String, lastEventID: UInt64? = nil) async throws -> EventStreamReader {
        var request = HTTPClientRequest(url: broker.url.absoluteString + path)
        request.headers.add(name: "Authorization", value: "Bearer \(broker.operatorToken)")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        let response = try await broker.http.execute(request, timeout: .seconds(60))
        guard response.status == .ok else { throw TestFailure("stream \(path): \(response.status)") }
        return EventStreamReader(iterator: response.body.makeAsyncIterator(), task: nil)
    }

    /// The next message with data (comments and the retry preamble skipped).
    mutating func nextMessage() async throws -> Message {
        while true {
            if let range = buffer.range(of: "\n\n") {
                let block = String(buffer[..<range.lowerBound])
                buffer.removeSubrange(..<range.upperBound)
                var message = Message(data: "")
                var dataLines: [String] = []
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix(":") { continue }
                    if line.hasPrefix("id: ") { message.id = String(line.dropFirst(4)) }
                    if line.hasPrefix("event: ") { message.event = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { dataLines.append(String(line.dropFirst(6))) }
                }
                if dataLines.isEmpty { continue }
                message.data = dataLines.joined(separator: "\n")
                return message
            }
            guard let chunk = try await iterator.next() else { throw TestFailure("the stream ended") }
            buffer += String(buffer: chunk)
        }
    }

    mutating func next(count: Int) async throws -> [ContextEvent] {
        var events: [ContextEvent] = []
        while events.count < count {
            let message = try await nextMessage()
            let event = try WireFormat.decoder().decode(ContextEvent.self, from: Data(message.data.utf8))
            if message.id != String(event.sequence) || message.event != event.change.kind {
                throw TestFailure("id/event fields do not match the event: \(message)")
            }
            events.append(event)
        }
        return events
    }

    mutating func nextOutput(count: Int) async throws -> [OutputLine] {
        var lines: [OutputLine] = []
        while lines.count < count {
            let message = try await nextMessage()
            let line = try WireFormat.decoder().decode(OutputLine.self, from: Data(message.data.utf8))
            if message.id != String(line.index) || message.event != BrokerProtocol.outputEvent { throw TestFailure("bad output message: \(message)") }
            lines.append(line)
        }
        return lines
    }

    /// Drops the connection (the iterator is released; AsyncHTTPClient closes the stream).
    mutating func close() {
        iterator = HTTPClientResponse.Body().makeAsyncIterator()
        task?.cancel()
    }
}
