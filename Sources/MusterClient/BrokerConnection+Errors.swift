import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

extension BrokerConnection {
    /// The ``BrokerClientError`` for a failure below HTTP (the connection, TLS, a timeout), with a message that
    /// says what to check.
    func transportError(_ error: any Error, call: String, timeout: Duration, base: String) -> BrokerClientError {
        let url = base
        func make(_ code: BrokerClientError.Code, _ message: String) -> BrokerClientError {
            var made = BrokerClientError(code: code, message: message, request: call, underlying: error)
            made.baseURL = base
            return made
        }
        if let connectFailure = ConnectFailure(error) {
            let detail = connectFailure.description
            let hint =
                connectFailure == .refused
                ? " — is `muster broker` running, and listening on that address?"
                : " — check the broker address (such as MUSTER_BROKER) and the network"
            return make(.cannotConnect, "cannot reach the broker at \(url): \(detail)\(hint)")
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .remoteConnectionClosed:
                return make(.connectionLost, "\(call): the broker at \(url) closed the connection before answering in full")
            case .readTimeout:
                return make(.timedOut, "\(call): the broker at \(url) stopped sending (read timeout)")
            case .deadlineExceeded:
                return make(.timedOut, "\(call): no answer from the broker at \(url) within \(timeout.seconds) s")
            case .alreadyShutdown:
                return make(.shutDown, "\(call): the broker connection was shut down")
            case .tlsHandshakeTimeout:
                return make(.tls, "cannot reach the broker at \(url): the TLS handshake timed out")
            default:
                break
            }
        }
        if error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            return make(
                .tls,
                "cannot reach the broker at \(url): the TLS handshake failed (\(error)) — for a self-signed broker certificate, "
                    + "trust it with a CA certificate file, and check that it names the host in the broker address"
            )
        }
        if let error = error as? HTTPParserError, error == .invalidEOFState {
            return make(.connectionLost, "\(call): the broker at \(url) closed the connection in the middle of its answer (did it stop or restart?)")
        }
        if let error = error as? IOError {
            return make(.connectionLost, "\(call): the connection to the broker at \(url) broke: \(error.description)")
        }
        if error is ChannelError {
            return make(.connectionLost, "\(call): the connection to the broker at \(url) broke: \(error)")
        }
        return make(.connectionLost, "\(call): talking to the broker at \(url) failed: \(error)")
    }
}

/// Why a connection could not be made, when it could not: the request then never reached the broker, which makes
/// even an operator action safe to retry.
private enum ConnectFailure: Equatable, CustomStringConvertible {
    case refused
    case unknownHost
    case timedOut
    case other(String)

    init?(_ error: any Error) {
        switch error {
        case let error as NIOConnectionError:
            if error.dnsAError != nil, error.dnsAAAAError != nil, error.connectionErrors.isEmpty {
                self = .unknownHost
            } else if error.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }) {
                self = .refused
            } else if error.connectionErrors.isEmpty {
                self = .unknownHost
            } else {
                self = .other(error.connectionErrors.map { "\($0.error)" }.joined(separator: "; "))
            }
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            self = .refused
        case let error as HTTPClientError where error == .connectTimeout || error == .getConnectionFromPoolTimeout:
            self = .timedOut
        case let error as ChannelError:
            guard case .connectTimeout = error else { return nil }
            self = .timedOut
        case let error as SocketAddressError:
            self = .other("\(error)")
        default:
            return nil
        }
    }

    var description: String {
        switch self {
        case .refused: "connection refused"
        case .unknownHost: "unknown host"
        case .timedOut: "the connection timed out"
        case .other(let detail): detail
        }
    }
}

extension Duration {
    /// The duration in seconds, for messages.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
