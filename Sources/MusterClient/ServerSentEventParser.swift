/// One message of a Server-Sent Events stream, as the stream's reader dispatches it.
///
/// The broker sends one message per `ContextEvent` (`id:` its sequence number, `event:` its kind,
/// `data:` its JSON) and one per `OutputLine` (`id:` the line index, `event: output`).
public struct ServerSentEvent: Sendable, Hashable {
    /// The `event:` field; `message` when the message named none.
    public var event: String
    /// The `data:` lines, joined with a line feed (without a final one).
    public var data: String
    /// The last `id:` seen in the stream when this message was dispatched (an `id:` lasts until the next one), or
    /// `nil` if the stream has not sent one yet.
    public var id: String?

    /// Creates a message.
    public init(event: String = "message", data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// A pure, incremental parser for `text/event-stream` bodies, following the WHATWG HTML "event stream
/// interpretation" rules.
///
/// Feed it bytes in chunks of any size: a chunk may end in the middle of a line, of a field name, of a CRLF pair
/// or of a multi-byte UTF-8 character; the parser keeps what it needs until the next chunk. It handles
/// - lines ending in LF, CRLF or a lone CR;
/// - `id:`, `event:`, `data:` (several `data:` lines join with `\n`) and `retry:` fields, with the one optional
///   space after the colon removed;
/// - comment lines (starting with `:`, such as the broker's `: heartbeat`), which it skips;
/// - a leading byte order mark.
///
/// A message is dispatched at a blank line; a message with no `data:` line is not dispatched (its `id:` still
/// counts). Bytes after the last blank line are an incomplete message: when a stream ends they are discarded,
/// as the standard requires, so create a new parser for each connection.
///
/// ```swift
/// var parser = ServerSentEventParser()
/// for message in parser.feed(chunk) { … }
/// ```
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var skipLineFeed = false
    private var atStart = true
    private var eventName = ""
    private var data = ""
    private var hasData = false
    private var lastID: String?

    /// The reconnection time the stream last asked for with `retry:` (milliseconds), if any.
    public private(set) var retryMilliseconds: Int?

    /// Creates a parser at the start of a stream.
    public init() {}

    /// The last `id:` the stream set, whether or not a message has been dispatched with it: what a client sends
    /// back as `Last-Event-ID` when it reconnects.
    public var lastEventID: String? { lastID }

    /// Parses the next chunk of the stream and returns the messages it completed, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var messages: [ServerSentEvent] = []
        for byte in bytes {
            if skipLineFeed {
                skipLineFeed = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"):
                endLine(into: &messages)
            case UInt8(ascii: "\r"):
                skipLineFeed = true
                endLine(into: &messages)
            default:
                line.append(byte)
            }
        }
        return messages
    }

    private mutating func endLine(into messages: inout [ServerSentEvent]) {
        var bytes = line[...]
        line.removeAll(keepingCapacity: true)
        if atStart {
            atStart = false
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        }
        if bytes.isEmpty {
            dispatch(into: &messages)
            return
        }
        if bytes.first == UInt8(ascii: ":") { return }
        let name: String
        let value: Substring
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            name = String(decoding: bytes[..<colon], as: UTF8.self)
            var valueBytes = bytes[(colon + 1)...]
            if valueBytes.first == UInt8(ascii: " ") { valueBytes = valueBytes.dropFirst() }
            value = Substring(String(decoding: valueBytes, as: UTF8.self))
        } else {
            name = String(decoding: bytes, as: UTF8.self)
            value = ""
        }
        switch name {
        case "event":
            eventName = String(value)
        case "data":
            if hasData { data.append("\n") }
            data.append(contentsOf: value)
            hasData = true
        case "id":
            if !value.contains("\u{0}") { lastID = String(value) }
        case "retry":
            if !value.isEmpty, value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let milliseconds = Int(value) {
                retryMilliseconds = milliseconds
            }
        default:
            break
        }
    }

    private mutating func dispatch(into messages: inout [ServerSentEvent]) {
        defer {
            eventName = ""
            data = ""
            hasData = false
        }
        guard hasData else { return }
        messages.append(ServerSentEvent(event: eventName.isEmpty ? "message" : eventName, data: data, id: lastID))
    }
}
