import Foundation
import Logging
import MusterClient
import MusterCore

/// The agent's conversation with the broker, from boot to the end of the node's life:
///
/// 1. make sure the node has an SSH host key, and know its identities;
/// 2. check in (retrying with backoff while the broker is away);
/// 3. long-poll until released, then configure the node (``NodeConfigurator``: the six phases, resumable);
/// 4. report ok or the error;
/// 5. after ok, stay attached: each newer answer (a provider joined later, or changed) runs the steps for what
///    is new (`1-ipandhost/<role>` for that provider, refreshed `etc/hosts` and `ssh_known_hosts`).
///
/// It ends when the node failed (exit status = the error code), when the broker no longer knows this node's
/// token (it was retried or its context ended: exit 0), or when cancelled.
public struct AgentSession: Sendable {
    private let bootstrap: AgentBootstrap
    private let logger: Logger

    /// Creates a session.
    public init(bootstrap: AgentBootstrap, logger: Logger) {
        self.bootstrap = bootstrap
        self.logger = logger
    }

    /// Runs until the node's life ends; returns the process exit status (0 ok/detached, Nimbus codes 1–4 on error).
    public func run() async -> Int32 {
        let hostKey: HostKey
        do {
            hostKey = try HostKey.loadOrCreate(root: bootstrap.layout.root, comment: "root@\(bootstrap.node)")
        } catch {
            logger.error("no host key", metadata: ["error": "\(error)"])
            return Int32(error.code)
        }
        guard let identities = await IdentityDiscovery.identities(bootstrap, pubkey: hostKey.publicKey, logger: logger) else {
            logger.error("cannot tell this node's addresses: give each NIC an ip and hostname in the userdata")
            return Int32(NodeExitCode.environment)
        }
        let connection: BrokerConnection
        do {
            var configuration = try BrokerConfiguration(url: bootstrap.broker.absoluteString)
            if let pem = bootstrap.caCertificatePEM { configuration.tls.caCertificatePEM = pem }
            connection = try BrokerConnection(configuration: configuration, logger: logger)
        } catch {
            logger.error("cannot use the broker address", metadata: ["error": "\(error)"])
            return Int32(NodeExitCode.input)
        }
        defer { Task { try? await connection.shutdown() } }
        let client = connection.agentClient(context: bootstrap.context, node: bootstrap.node, token: bootstrap.token)
        let reporter = BrokerReporter(client: client, logger: logger)
        let progress: ProgressStore
        do {
            progress = try ProgressStore.open(
                layout: bootstrap.layout,
                context: bootstrap.context,
                node: bootstrap.node,
                generation: bootstrap.generation
            )
        } catch {
            logger.error("cannot open the progress record", metadata: ["error": "\(error)"])
            await reporter.report(error.result)
            return Int32(error.code)
        }
        let configurator = NodeConfigurator(
            own: identities,
            phases: PhaseRunner(
                layout: bootstrap.layout,
                context: bootstrap.context,
                node: bootstrap.node,
                scriptTimeout: bootstrap.scriptTimeout,
                reporter: reporter,
                progress: progress
            )
        )

        // Check in.
        guard await call("check in", { _ = try await client.checkIn(identities) }) else { return 0 }
        logger.info("checked in", metadata: ["node": "\(bootstrap.node)", "ip": "\(identities.first?.ip ?? "?")"])

        var applied = 0
        var outputIndex = await progress.record.outputIndex
        while !Task.isCancelled {
            var response: AnswerResponse?
            let polled = await call("wait for the answer") { response = try await client.waitForAnswer(after: applied) }
            guard polled, let response else { return 0 }
            if response.isFinal {
                logger.info("the node's life on the broker ended; detaching", metadata: ["state": "\(response.state.rawValue)"])
                return 0
            }
            guard let answer = response.answer, answer.version > applied else { continue }
            logger.info("released", metadata: ["version": "\(answer.version)"])
            let outcome = await configurator.apply(answer, outputIndex: outputIndex)
            outputIndex = outcome.nextOutputIndex
            guard let result = outcome.result else { return 0 }
            await reporter.flush()
            switch (result, outcome.work) {
            case (.ok, .incremental), (.ok, .alreadyApplied):
                // A later provider was taken in; the node stays ok.
                applied = answer.version
            case (.ok, _):
                await reporter.report(.ok)
                applied = answer.version
                logger.info("ok")
            case (.error(let code, let message), _):
                await reporter.report(result)
                logger.error("failed", metadata: ["code": "\(code)", "message": "\(message)"])
                return Int32(code)
            }
        }
        return 0
    }

    /// Runs a broker call until it succeeds; false when the broker refuses this node for good (a token that is
    /// no longer valid: the node was retried, killed or its context ended).
    private func call(_ what: String, _ body: () async throws -> Void) async -> Bool {
        var attempt = 0
        while !Task.isCancelled {
            do {
                return try await BrokerPatience.retryingWhileUnreachable(what, logger: logger, body) != nil
            } catch let error as BrokerClientError where error.code == .unauthorized || error.code == .forbidden || error.code == .notFound {
                logger.info("the broker no longer knows this node; detaching", metadata: ["call": "\(what)", "error": "\(error.message)"])
                return false
            } catch {
                attempt += 1
                logger.error("broker call failed; retrying", metadata: ["call": "\(what)", "error": "\(error)"])
                try? await Task.sleep(for: BrokerPatience.policy.delay(beforeRetry: attempt))
            }
        }
        return false
    }
}

/// Finds a node's addresses when its launcher did not say (a cloud VM): from the instance metadata service when
/// the bootstrap names one (``MetadataIdentities``: Nimbus's `localnic`/`publicnic`), otherwise the host name
/// and, per NIC, the first non-loopback IPv4 address of the machine.
enum IdentityDiscovery {
    /// The node's identities: the launcher's when it gave every NIC's address (and named at least one NIC),
    /// else the metadata service's, else the machine's own.
    static func identities(_ bootstrap: AgentBootstrap, pubkey: String, logger: Logger) async -> [Identity]? {
        if let known = bootstrap.identities(pubkey: pubkey), !known.isEmpty || bootstrap.metadata == nil { return known }
        guard let metadata = bootstrap.metadata else { return discover(bootstrap, pubkey: pubkey) }
        do {
            let network = try await InstanceMetadata(base: metadata.absoluteString).network()
            return MetadataIdentities.identities(
                network: network,
                machineAddresses: localIPv4Addresses(),
                hints: bootstrap.nics,
                fallbackHostname: machineHostname(),
                pubkey: pubkey
            )
        } catch {
            logger.error("cannot read this node's addresses from the metadata service", metadata: ["error": "\(error.message)"])
            return nil
        }
    }

    private static func machineHostname() -> String? {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count) == 0 else { return nil }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func discover(_ bootstrap: AgentBootstrap, pubkey: String) -> [Identity]? {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count) == 0 else { return nil }
        let hostname = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let addresses = localIPv4Addresses()
        guard let first = addresses.first else { return nil }
        return bootstrap.nics.enumerated().map { offset, nic in
            Identity(
                interface: nic.label,
                ip: nic.ip ?? (offset < addresses.count ? addresses[offset] : first),
                hostname: nic.hostname ?? hostname,
                pubkey: pubkey
            )
        }
    }

    private static func localIPv4Addresses() -> [String] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var result: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard getnameinfo(address, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else {
                continue
            }
            let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !text.hasPrefix("127.") { result.append(text) }
        }
        return result
    }
}
