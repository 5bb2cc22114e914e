import MusterClient
import MusterCore

/// What the agent does about a broker call that failed: the one table behind the agent's exit statuses.
///
/// | the broker…                                   | check-in, long-poll                | a queued report or output |
/// |-----------------------------------------------|------------------------------------|---------------------------|
/// | cannot be reached, 5xx, 429, a TLS failure     | retry with back-off, for ever      | retry with back-off       |
/// | 409: the node was killed, its context ended    | detach, exit 0                     | drop it, go on            |
/// | 401 once the node was accepted (retried node)  | detach, exit 0                     | stop delivering           |
/// | 401 at first contact, 403, 404                 | stop, exit 1 (input)               | stop delivering           |
/// | 422 on check-in: the node's identity refused   | stop, exit 3 (environment)         | —                         |
/// | 400, 413, an answer this agent cannot read     | stop, exit 3 (environment)         | drop it, go on            |
///
/// The exit codes follow Nimbus's context agent (`ctx-agent`'s `workspace_ctx_retrieve.py`): 1 is a problem with
/// what the agent was given (its userdata: context, node, token), 3 a problem with "the local or remote system
/// environment" (the identity this machine reports, a broker this agent cannot talk to). Nimbus exited 4 for
/// every refusal from its broker; Muster keeps 4 for failed scripts only, so that the code tells the cause.
enum BrokerVerdict: Sendable, Equatable {
    /// Try again after a back-off: the broker may come back, or be less busy.
    case retry
    /// The node's life on the broker ended (killed, retried elsewhere, context terminated): exit 0 quietly.
    case detach(String)
    /// Retrying cannot fix it: exit with the error's code, saying why.
    case stop(AgentError)
    /// (A queued delivery only.) The broker refused this message but not the node: drop it, send the next.
    case drop

    /// The kind of call that failed.
    enum Call: Sendable {
        /// The check-in (identities).
        case checkIn
        /// The long-poll for the answer, or another call of the session's own.
        case session
        /// A queued script report, output batch or final report (``BrokerOutbox``).
        case delivery
    }

    /// The verdict on `error` from a `call`; `accepted` says whether the broker took this node's check-in before
    /// (in this run of the agent or an earlier one), which tells a replaced token from one that never was valid.
    init(_ error: BrokerClientError, call: Call, accepted: Bool) {
        let said = error.brokerMessage.map { TerminalText.inert($0) } ?? error.message
        switch error.code {
        case _ where error.isTransient, .serverError, .tls:
            self = .retry
        case .shutDown:
            self = .detach("the broker connection was shut down")
        case .conflict:
            self = call == .delivery ? .drop : .detach("the broker says: \(said)")
        case .unauthorized where accepted:
            self =
                call == .delivery
                ? .stop(.input(said)) : .detach("the broker no longer knows this node's token (\(said)): it was retried or its context ended")
        case .unauthorized:
            self = .stop(.input("the broker does not know this node's token (\(said)); check the token in the node's userdata"))
        case .forbidden:
            self = .stop(.input("the broker refused this node's token for this node (\(said)); check the node and token in the userdata"))
        case .notFound:
            self = .stop(
                .input("the broker has no such context or node (\(said)); check the context and node in the userdata, and the broker address")
            )
        case .invalidInput where call == .checkIn, .invalidDocument where call == .checkIn:
            self = .stop(.environment("the broker refused this node's identity: \(said)"))
        default:
            self =
                call == .delivery
                ? .drop
                : .stop(.environment("the broker answered what this agent cannot work with (is it the same version?): \(error.message)"))
        }
    }
}
