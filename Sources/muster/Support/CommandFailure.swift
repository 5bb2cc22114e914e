import ArgumentParser
import Foundation
import MusterClient
import MusterCore

/// A command's failure as the person at the terminal sees it: one line on standard error that says what and
/// where, and an exit status a script can act on (see ``ExitCodes``).
struct CommandFailure: Error, CustomStringConvertible {
    var status: ExitCode
    var message: String

    init(_ status: ExitCode, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { message }

    /// Runs a command's body and turns whatever it throws into one line on standard error and an exit status,
    /// never a backtrace or ArgumentParser's usage text (which is for usage errors, found before `run`).
    static func reporting<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw report(error)
        }
    }

    /// Prints `error` and returns the exit status to end with.
    static func report(_ error: any Error) -> any Error {
        switch error {
        case let exit as ExitCode:
            return exit
        case let failure as CommandFailure:
            Output.error("error: \(failure.message)")
            return failure.status
        case let error as BrokerClientError:
            Output.error("error: \(error.operatorMessage)")
            for diagnostic in error.diagnostics { Output.error(diagnostic.formatted(file: "document")) }
            return error.exitCode
        case let error as DocumentFile.ReadError:
            Output.error(error.description)
            return ExitCodes.notFound
        case is CancellationError:
            return ExitCodes.interrupted
        case let error as ValidationError:
            // Thrown while running (not while parsing): a plain message, not the usage text.
            Output.error("error: \(error.message)")
            return ExitCodes.usage
        default:
            Output.error("error: \(error)")
            return ExitCodes.internalError
        }
    }
}

extension BrokerClientError {
    /// The exit status for this error (see ``ExitCodes``).
    var exitCode: ExitCode {
        switch code {
        case .cannotConnect, .connectionLost, .timedOut, .unavailable, .tls, .shutDown: ExitCodes.unavailable
        case .unauthorized, .forbidden: ExitCodes.refused
        case .conflict, .outputGap: ExitCodes.conflict
        case .notFound: ExitCodes.notFound
        case .invalidDocument, .invalidInput, .badRequest, .tooLarge: ExitCodes.invalidDocument
        case .decoding, .unexpectedResponse, .unexpectedStatus: ExitCodes.protocolError
        case .invalidConfiguration: ExitCodes.configuration
        default: ExitCodes.internalError
        }
    }

    /// The message for an operator: what the broker said (which names the context or node) rather than the
    /// request line, with a hint where the client can give one.
    var operatorMessage: String {
        let said = brokerMessage ?? message
        switch code {
        case .unauthorized:
            return "the broker refused the operator token (\(said)); check --token-file, MUSTER_TOKEN or <state>/operator-token"
        case .forbidden:
            return "\(said) (a node token cannot act as the operator)"
        case .invalidDocument:
            return said
        default:
            return said
        }
    }
}
