import Foundation
import Logging
import MusterClient
import MusterCore

/// The agent's conversation with the broker, from boot to the end of the node's life:
///
/// 1. make sure the node has an SSH host key, and know its identities;
/// 2. check in (retrying with back-off while the broker is away): the check-in is itself the first long-poll, held
///    by the broker until the node is released;
/// 3. long-poll until released (when the check-in's wait ended first), then configure the node
///    (``NodeConfigurator``: the six phases, resumable);
/// 4. report ok or the error (the report carries the output lines and script reports not yet sent, so a quiet
///    node's whole life on the broker is two requests);
/// 5. after ok, stay attached: each newer answer (a provider joined later, or changed) runs the steps for what
///    is new (`1-ipandhost/<role>` for that provider, refreshed `etc/hosts` and `ssh_known_hosts`).
///
/// What the scripts do reaches the broker through a ``BrokerOutbox``: the scripts never wait for the broker, and a
/// broker that is away for a while is told everything, in order and once, when it is back.
///
/// It ends (``run()``'s status, after ``BrokerVerdict``): 0 when the node's life on the broker ended (killed,
/// retried elsewhere, its context terminated), the node's error code when it failed, 1 when the broker does not
/// know the node's context, node or token, 3 when it refuses the node's identity or cannot be talked to.
public struct AgentSession: Sendable {
    private let bootstrap: AgentBootstrap
    private let logger: Logger
    private let policy: RetryPolicy
    private var outboxLimits = OutboxStateMachine.Limits.standard

    /// Creates a session.
    ///
    /// - Parameter policy: The back-off between tries while the broker is away (tests shorten it).
    public init(bootstrap: AgentBootstrap, logger: Logger, policy: RetryPolicy = .agent) {
        self.bootstrap = bootstrap
        self.logger = logger
        self.policy = policy
    }

    /// A session whose outbox gathers what comes within `outboxWindow` (tests lengthen it, so that a busy machine
    /// cannot split a quiet node's final report).
    init(bootstrap: AgentBootstrap, logger: Logger, policy: RetryPolicy = .agent, outboxWindow: Duration) {
        self.init(bootstrap: bootstrap, logger: logger, policy: policy)
        outboxLimits.window = outboxWindow
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
            // The session and the outbox retry with their own back-off, for as long as the node lives.
            var configuration = try BrokerConfiguration(url: bootstrap.brokers.map(\.absoluteString).joined(separator: ","), retry: .never)
            if let pem = bootstrap.caCertificatePEM { configuration.tls.caCertificatePEM = pem }
            connection = try BrokerConnection(configuration: configuration, logger: logger)
        } catch {
            logger.error("cannot use the broker address", metadata: ["error": "\(error)"])
            return Int32(NodeExitCode.input)
        }
        defer { Task { try? await connection.shutdown() } }
        let client = connection.agentClient(context: bootstrap.context, node: bootstrap.node, token: bootstrap.token)
        let outbox = BrokerOutbox(client: client, policy: policy, limits: outboxLimits, maximumBacklog: 100_000, logger: logger)
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
            await outbox.report(error.result)
            _ = await outbox.drain()
            return Int32(error.code)
        }
        let status = await converse(client: client, identities: identities, outbox: outbox, progress: progress)
        await outbox.close()
        return status
    }

    private func converse(client: AgentClient, identities: [Identity], outbox: BrokerOutbox, progress: ProgressStore) async -> Int32 {
        let configurator = NodeConfigurator(
            own: identities,
            phases: PhaseRunner(
                layout: bootstrap.layout,
                context: bootstrap.context,
                node: bootstrap.node,
                scriptTimeout: bootstrap.scriptTimeout,
                reporter: outbox,
                progress: progress
            )
        )
        let record = await progress.record
        let resumed = record.checkedIn == true || record.outputIndex > 0 || !record.completed.isEmpty

        // Check in, held by the broker until the node is released (or the wait ends: then the loop below polls).
        var pending: AnswerResponse?
        let checkIn = await persist("check in", call: .checkIn, accepted: record.checkedIn == true) {
            try await client.checkIn(identities, wait: Self.wait)
        }
        switch checkIn {
        case .ended(let status): return status
        case .answered(let response): pending = response
        }
        logger.info("checked in", metadata: ["node": "\(bootstrap.node)", "ip": "\(identities.first?.ip ?? "?")"])
        do { try await progress.markCheckedIn() } catch {
            logger.error("cannot write the progress record", metadata: ["error": "\(error.message)"])
            await outbox.report(error.result)
            _ = await outbox.drain()
            return Int32(error.code)
        }

        var outputIndex = record.outputIndex
        if resumed {
            // An earlier run of this agent may have sent lines past the record's last step boundary: number on from
            // what the broker holds, so that no new line is taken for a repeat of an old one.
            switch await persist("ask for the output count", call: .session, accepted: true, { try await client.appendOutput([]) }) {
            case .ended(let status): return status
            case .answered(let outcome): outputIndex = max(outputIndex, outcome.next)
            }
        }

        var applied = 0
        while !Task.isCancelled {
            let response: AnswerResponse
            if let checkedIn = pending, checkedIn.isFinal || checkedIn.answer != nil {
                response = checkedIn
            } else {
                let polled = await persist("wait for the answer", call: .session, accepted: true) {
                    try await client.waitForAnswer(after: applied, wait: Self.wait)
                }
                switch polled {
                case .ended(let status): return status
                case .answered(let answered): response = answered
                }
            }
            pending = nil
            if response.isFinal {
                logger.info("the node's life on the broker ended; detaching", metadata: ["state": "\(response.state.rawValue)"])
                return 0
            }
            guard let answer = response.answer, answer.version > applied else { continue }
            logger.info("released", metadata: ["version": "\(answer.version)"])
            let outcome = await configurator.apply(answer, outputIndex: outputIndex)
            outputIndex = outcome.nextOutputIndex
            guard let result = outcome.result else { return 0 }
            switch (result, outcome.work) {
            case (.ok, .incremental), (.ok, .alreadyApplied):
                // A later provider was taken in; the node stays ok.
                applied = answer.version
            case (.ok, _):
                await outbox.report(.ok)
                applied = answer.version
                logger.info("ok")
            case (.error(let code, let message), _):
                await outbox.report(result)
                logger.error("failed", metadata: ["code": "\(code)", "message": "\(message)"])
                // Stay until the broker has the whole story: the output, then the error.
                _ = await outbox.drain()
                return Int32(code)
            }
        }
        return 0
    }

    /// How long the broker may hold a check-in or a long-poll (it holds them for at most its own `--long-poll`).
    static let wait: Duration = .seconds(BrokerProtocol.maximumWaitSeconds)

    /// How a persistent call ended.
    private enum Reply<Value: Sendable>: Sendable {
        case answered(Value)
        /// The session ends with this exit status.
        case ended(Int32)
    }

    /// Runs a broker call until it is answered, retrying with back-off while the broker is away; ends the session
    /// (a status) when the broker refuses the node or the call for good (see ``BrokerVerdict``).
    private func persist<Value: Sendable>(
        _ what: String,
        call: BrokerVerdict.Call,
        accepted: Bool,
        _ body: () async throws -> Value
    ) async -> Reply<Value> {
        var backoff = Backoff(policy: policy)
        var awaySince: ContinuousClock.Instant?
        while !Task.isCancelled {
            do {
                let value = try await body()
                if let awaySince {
                    logger.notice(
                        "the broker is back",
                        metadata: ["call": "\(what)", "away-ms": "\(Int((ContinuousClock.now - awaySince) / .milliseconds(1)))"]
                    )
                }
                return .answered(value)
            } catch let error as BrokerClientError {
                switch BrokerVerdict(error, call: call, accepted: accepted) {
                case .retry:
                    if awaySince == nil { awaySince = ContinuousClock.now }
                    guard let delay = backoff.failed() else { return .ended(Int32(NodeExitCode.environment)) }
                    if backoff.failures == 1 || backoff.failures % 10 == 0 {
                        logger.warning(
                            "broker unreachable; retrying",
                            metadata: ["call": "\(what)", "attempt": "\(backoff.failures)", "error": "\(error.message)"]
                        )
                    }
                    try? await Task.sleep(for: delay)
                case .detach(let reason):
                    logger.notice("detaching: \(reason)", metadata: ["call": "\(what)"])
                    return .ended(0)
                case .stop(let refusal):
                    logger.error("stopping: \(refusal.message)", metadata: ["call": "\(what)", "code": "\(refusal.code)"])
                    return .ended(Int32(refusal.code))
                case .drop:
                    logger.error("stopping: the broker refused \(what): \(error.message)")
                    return .ended(Int32(NodeExitCode.environment))
                }
            } catch {
                // Cancelled: the agent is stopping.
                return .ended(0)
            }
        }
        return .ended(0)
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
