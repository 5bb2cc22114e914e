import AsyncHTTPClient
import Foundation
import Logging
import MusterCore
import NIOCore
import NIOHTTP1
import Synchronization

extension BrokerConnection {
    /// Sends `call`, retrying as its ``BrokerCall/Safety`` and ``BrokerConfiguration/retry`` allow, and decodes
    /// the reply as `T`.
    func send<T: Decodable>(_ call: BrokerCall, decoding type: T.Type) async throws -> T {
        try decode(T.self, from: try await perform(call), call: call)
    }

    /// Decodes `reply`, the answer to `call`, as `T`.
    func decode<T: Decodable>(_ type: T.Type, from reply: BrokerReply, call: BrokerCall) throws -> T {
        do {
            return try WireFormat.decoder().decode(T.self, from: Data(reply.body.readableBytesView))
        } catch {
            throw BrokerClientError(
                code: .decoding,
                message:
                    "\(call) answered \(reply.status) with a body this client cannot read as \(T.self) (is the broker the same version?): \(error)",
                status: reply.status,
                request: "\(call)",
                underlying: error
            )
        }
    }

    /// Sends `call`, retrying as its ``BrokerCall/Safety`` and ``BrokerConfiguration/retry`` allow.
    ///
    /// - Throws: ``BrokerClientError`` for any failure, including a non-2xx status; `CancellationError` when the
    ///   task is cancelled.
    func perform(_ call: BrokerCall) async throws -> BrokerReply {
        var attempt = 1
        while true {
            let failure: BrokerClientError
            do {
                return try await performOnce(call, attempt: attempt)
            } catch let error as BrokerClientError {
                failure = error
            }
            if failure.isTransient, let base = failure.baseURL { failover(from: base) }
            guard Self.mayRetry(failure, safety: call.safety), configuration.retry.allowsAnotherAttempt(after: attempt) else {
                throw failure
            }
            let delay = configuration.retry.delay(beforeRetry: attempt)
            logger.debug(
                "retrying broker call",
                metadata: [
                    "request": "\(call)", "attempt": "\(attempt)", "error-code": "\(failure.code)",
                    "delay-ms": "\(delay.milliseconds)",
                ]
            )
            try await sleep(delay)
            attempt += 1
        }
    }

    /// Whether a failed call may be sent again.
    static func mayRetry(_ error: BrokerClientError, safety: BrokerCall.Safety) -> Bool {
        switch safety {
        case .idempotent: return error.isTransient
        case .unsafe: return error.code == .cannotConnect
        }
    }

    private func performOnce(_ call: BrokerCall, attempt: Int) async throws -> BrokerReply {
        guard !shutDownState.withLock({ $0 }) else {
            throw BrokerClientError(code: .shutDown, message: "\(call): the broker connection was shut down", request: "\(call)")
        }
        let start = ContinuousClock.now
        let base = activeBaseURL
        let request = makeRequest(call, base: base)
        let timeout = call.timeout ?? configuration.timeouts.request
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, deadline: .now() + TimeAmount(timeout), logger: logger)
            body = try await response.body.collect(upTo: configuration.maximumResponseBytes)
        } catch let error as NIOTooManyBytesError {
            throw BrokerClientError(
                code: .unexpectedResponse,
                message: "\(call) answered with more than \(configuration.maximumResponseBytes) bytes",
                request: "\(call)",
                underlying: error
            )
        } catch {
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            let mapped = transportError(error, call: "\(call)", timeout: timeout, base: base)
            logger.debug(
                "broker call failed",
                metadata: [
                    "request": "\(call)", "attempt": "\(attempt)", "error-code": "\(mapped.code)",
                    "duration-ms": "\((ContinuousClock.now - start).milliseconds)",
                ]
            )
            throw mapped
        }
        let status = Int(response.status.code)
        logger.debug(
            "broker call",
            metadata: [
                "request": "\(call)", "status": "\(status)", "attempt": "\(attempt)",
                "request-bytes": "\(call.body?.readableBytes ?? 0)", "response-bytes": "\(body.readableBytes)",
                "duration-ms": "\((ContinuousClock.now - start).milliseconds)",
            ]
        )
        guard (200..<300).contains(status) else {
            throw errorForStatus(response.status, body: body, call: "\(call)", base: base)
        }
        return BrokerReply(status: status, body: body)
    }

    func makeRequest(_ call: BrokerCall, base: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: base + call.target)
        switch call.method {
        case .GET: request.method = .GET
        case .POST: request.method = .POST
        case .DELETE: request.method = .DELETE
        }
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        request.headers.add(name: "Accept", value: call.accept)
        if let token = call.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body = call.body {
            request.headers.add(name: "Content-Type", value: call.contentType ?? "application/octet-stream")
            request.body = .bytes(body)
        }
        return request
    }

    /// The error for a non-2xx response, from the broker's JSON error body when it sent one.
    func errorForStatus(_ status: HTTPResponseStatus, body: ByteBuffer, call: String, base: String) -> BrokerClientError {
        let detail = try? WireFormat.decoder().decode(APIErrorBody.self, from: Data(body.readableBytesView)).error
        return BrokerClientError(status: Int(status.code), reason: status.reasonPhrase, body: detail, request: call, baseURL: base)
    }
}

extension Duration {
    /// The duration in whole milliseconds (for logs and messages).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
