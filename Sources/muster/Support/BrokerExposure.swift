import Foundation
import MusterBroker

/// How a broker is reached from where its nodes run, decided once from `--listen`, `--advertise`,
/// `--tls-cert`/`--tls-key` and `--insecure-http`:
///
/// - On a loopback address only this machine reaches it: plain HTTP is fine, and the URL agents use is the one
///   it listens on.
/// - Beyond loopback (`--listen 0.0.0.0:7077`), TLS is on by default. With no certificate given, the broker uses
///   its own certificate authority, kept in `<state>/tls/`, with a server certificate for the advertised name or
///   address; agents are handed the CA certificate and trust nothing else. Plain HTTP there needs an explicit
///   `--insecure-http`, and a warning says what it exposes.
struct BrokerExposure {
    /// The TLS files to serve with, if any.
    var tls: BrokerServerConfiguration.TLSFiles?
    /// The CA certificate agents pin, when the broker uses its own CA.
    var caCertificatePEM: String?
    /// The URL agents (and the operator's tools) use, when it is known before the broker listens; nil means "the
    /// URL it listens on" (with ``advertisedHost`` for its host, when set).
    var advertisedURL: String?
    /// The host agents reach the broker at, when only the port is left to learn.
    var advertisedHost: String?
    /// The host this machine's tools use, when not the advertised one (see ``BrokerServerConfiguration/localHost``).
    var localHost: String?
    /// A warning to show once.
    var warning: String?

    /// Whether `host` is a loopback address or name.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Sets what this decided on a broker's configuration.
    func apply(to configuration: inout BrokerServerConfiguration) {
        configuration.tls = tls
        configuration.advertisedURL = advertisedURL
        configuration.advertisedHost = advertisedHost
        configuration.localHost = localHost
    }

    static func decide(
        listenHost: String,
        listenPort: Int,
        advertise: String?,
        tlsCert: String?,
        tlsKey: String?,
        insecureHTTP: Bool,
        state: String
    ) throws(CommandFailure) -> BrokerExposure {
        var advertisedHost: String?
        if let advertise {
            guard let url = URL(string: advertise), let scheme = url.scheme, ["http", "https"].contains(scheme), let host = url.host, !host.isEmpty
            else {
                throw CommandFailure(ExitCodes.usage, "--advertise must be a URL such as https://203.0.113.7:7077, not '\(advertise)'")
            }
            advertisedHost = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            if scheme == "http" && !insecureHTTP && !isLoopback(advertisedHost!) {
                throw CommandFailure(
                    ExitCodes.usage,
                    "--advertise \(advertise) is plain HTTP beyond this machine: nodes would send their tokens and secrets in clear; "
                        + "use https (the default), or pass --insecure-http on a network you trust"
                )
            }
        }
        if let tlsCert, let tlsKey {
            return BrokerExposure(
                tls: .init(certificate: LocalPath.absolute(tlsCert), key: LocalPath.absolute(tlsKey)),
                advertisedURL: advertise
            )
        }
        let reachedFromElsewhere = !isLoopback(listenHost) || advertisedHost.map { !isLoopback($0) } == true
        guard reachedFromElsewhere else { return BrokerExposure(advertisedURL: advertise) }
        if insecureHTTP {
            return BrokerExposure(
                advertisedURL: advertise,
                warning: "warning: --insecure-http: the broker serves plain HTTP on \(listenHost):\(listenPort); node tokens, data values "
                    + "and the operator token cross the network in clear"
            )
        }
        let wildcard = listenHost == "0.0.0.0" || listenHost == "::"
        guard let name = advertisedHost ?? (wildcard ? nil : listenHost) else {
            throw CommandFailure(
                ExitCodes.usage,
                "listening on \(listenHost) needs --advertise https://NAME-OR-IP:\(listenPort): the address nodes reach the broker at, "
                    + "which its TLS certificate is made for"
            )
        }
        let folder = (state as NSString).appendingPathComponent("tls")
        let authority: BrokerCertificateAuthority
        do {
            authority = try BrokerCertificateAuthority.loadOrCreate(folder: folder, serverName: name)
        } catch {
            throw CommandFailure(ExitCodes.cannotCreate, "cannot set up the broker's certificate authority in \(folder): \(error)")
        }
        return BrokerExposure(
            tls: authority.tlsFiles,
            caCertificatePEM: authority.caCertificatePEM,
            advertisedURL: advertise,
            advertisedHost: name,
            // Listening on every address, this machine reaches the broker on loopback, which its certificate names.
            localHost: wildcard || isLoopback(listenHost) ? "127.0.0.1" : nil
        )
    }
}
