import Foundation
import HTTPTypes
import Hummingbird
import MusterCore
import NIOCore
import NIOPosix

/// Small helpers the route handlers share: JSON bodies, bearer tokens, query parameters, body limits.
enum HTTPSupport {
    /// Body limits by kind of request.
    enum Limit {
        /// A cluster document.
        static let document = ClusterDocumentParser.maximumSize
        /// A batch of output lines.
        static let output = 1024 * 1024
        /// Any other JSON body.
        static let json = 64 * 1024
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        json(bytes: try WireFormat.encoder().encode(value), status: status)
    }

    /// A response with a body already encoded as JSON.
    static func json(bytes: some Sequence<UInt8>, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func noContent() -> Response { Response(status: .noContent) }

    /// Reads the whole body, refusing more than `limit` bytes with 413.
    static func body(_ request: inout Request, limit: Int) async throws(BrokerError) -> [UInt8] {
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw BrokerError(.contentTooLarge, code: "too-large", "the request body is larger than \(limit) bytes")
        } catch {
            throw BrokerError.badRequest("could not read the request body: \(error)")
        }
    }

    /// Decodes a JSON body, refusing malformed JSON with 400 and a message that says where.
    static func decode<T: Decodable>(_ type: T.Type, from request: inout Request, limit: Int = Limit.json) async throws(BrokerError) -> T {
        let bytes = try await body(&request, limit: limit)
        // The agents' bodies, when plain, are read without JSONDecoder; anything else is JSONDecoder's to judge.
        if let readable = T.self as? any WireDecodable.Type, let value = readable.wireDecoded(from: bytes) as? T { return value }
        do {
            return try WireFormat.decoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw BrokerError.badRequest("the JSON body is not a valid \(T.self): \(describe(error))")
        } catch {
            throw BrokerError.badRequest("the JSON body is not valid: \(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).joined(separator: ".")
            return keys.isEmpty ? "" : " at '\(keys)'"
        }
        switch error {
        case .dataCorrupted(let context): return "malformed\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context): return "missing '\(key.stringValue)'\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "wrong type\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// The `Last-Event-ID` header: the position a resuming stream client already has, a whole number from 0 to
    /// `Int.max`; `nil` when absent, 400 when malformed or out of range (never a trap, whatever the client sends).
    static func lastEventID(_ request: Request, _ what: String) throws(BrokerError) -> Int? {
        guard let raw = request.headers[lastEventIDField] else { return nil }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), value >= 0 else {
            throw BrokerError.badRequest("Last-Event-ID must be \(what), a whole number from 0 to \(Int.max), not '\(raw.prefix(64))'")
        }
        return value
    }

    static let lastEventIDField = HTTPField.Name("Last-Event-ID")!

    /// Runs CPU-heavy work (parsing a document) on the NIO thread pool, so it holds neither the state actor nor
    /// one of the few threads every request task shares.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () throws(BrokerError) -> T) async throws(BrokerError) -> T {
        let outcome: Result<T, BrokerError>
        do {
            outcome = try await NIOThreadPool.singleton.runIfActive { () -> Result<T, BrokerError> in
                do throws(BrokerError) {
                    return .success(try work())
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            throw BrokerError.unavailable("the broker is shutting down")
        }
        return try outcome.get()
    }

    /// An integer query parameter within `range`, or `fallback` when absent; 400 when malformed or out of range.
    static func integer(_ request: Request, _ name: String, in range: ClosedRange<Int>, default fallback: Int) throws(BrokerError) -> Int {
        guard let raw = request.uri.queryParameters.get(name) else { return fallback }
        guard let value = Int(raw), range.contains(value) else {
            throw BrokerError.badRequest(
                "query parameter '\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(raw.prefix(64))'"
            )
        }
        return value
    }

    /// An integer query parameter within `range`, or nil when absent; 400 when malformed or out of range.
    static func optionalInteger(_ request: Request, _ name: String, in range: ClosedRange<Int>) throws(BrokerError) -> Int? {
        guard request.uri.queryParameters.get(name) != nil else { return nil }
        return try integer(request, name, in: range, default: range.lowerBound)
    }

    /// A boolean query parameter (`true`/`false`/`1`/`0`), or `fallback` when absent.
    static func boolean(_ request: Request, _ name: String, default fallback: Bool) throws(BrokerError) -> Bool {
        guard let raw = request.uri.queryParameters.get(name) else { return fallback }
        switch raw.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw BrokerError.badRequest("query parameter '\(name)' must be true or false, not '\(raw)'")
        }
    }

    /// A path parameter, percent-decoded.
    static func parameter(_ context: some RequestContext, _ name: String) throws(BrokerError) -> String {
        guard let raw = context.parameters.get(name) else { throw BrokerError.badRequest("missing path parameter '\(name)'") }
        return raw.removingPercentEncoding ?? raw
    }
}
