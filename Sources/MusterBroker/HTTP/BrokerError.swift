import Foundation
import HTTPTypes
import Hummingbird
import MusterCore

/// An error the broker answers with: an HTTP status and the JSON body `{"error": {"code", "message"}}`.
///
/// Every refusal says what was refused and what to do. Nothing in the broker's state changes when a request
/// ends in one of these.
public struct BrokerError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The body.
    public var detail: APIErrorBody.Detail

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, code: String, _ message: String, diagnostics: [Diagnostic]? = nil, expected: Int? = nil) {
        self.status = status
        self.detail = APIErrorBody.Detail(code: code, message: message, diagnostics: diagnostics, expected: expected)
    }

    public var description: String { "\(status.code) \(detail.code): \(detail.message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"muster\"" }
        let body = try WireFormat.encoder().encode(APIErrorBody(detail))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    // MARK: Common errors

    static func badRequest(_ message: String) -> BrokerError { BrokerError(.badRequest, code: "bad-request", message) }

    static func unauthorized(_ message: String) -> BrokerError { BrokerError(.unauthorized, code: "unauthorized", message) }

    static func forbidden(_ message: String) -> BrokerError { BrokerError(.forbidden, code: "forbidden", message) }

    static func unavailable(_ message: String) -> BrokerError { BrokerError(.serviceUnavailable, code: "unavailable", message) }

    /// The HTTP form of an engine refusal.
    init(_ error: EngineError) {
        switch error.code {
        case .unknownContext, .unknownNode, .unknownWorkspace: self.init(.notFound, code: error.code.rawValue, error.message)
        case .duplicateContext, .conflict: self.init(.conflict, code: error.code.rawValue, error.message)
        case .invalidInput: self.init(.unprocessableContent, code: error.code.rawValue, error.message)
        }
    }

    /// The HTTP form of a store failure: the broker cannot promise durability, so it refuses the request.
    init(_ error: StoreError) {
        self.init(.serviceUnavailable, code: "store-unavailable", "the broker could not save its state (\(error.message)); try again")
    }
}
