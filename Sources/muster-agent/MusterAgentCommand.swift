import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import MusterAgent
import MusterCore
import MusterSystem
import NIOCore
import NIOHTTP1

/// `muster-agent`: the context agent that runs on every node.
@main
struct MusterAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muster-agent",
        abstract: "The Muster context agent: check in with the broker, wait for the nodes this one needs, run ctx-scripts.",
        discussion: """
            The agent reads its userdata (from --userdata FILE, --userdata-url URL, or an EC2-style metadata \
            service with --metadata URL), checks in with the broker with this node's identity (IP, host name \
            and SSH host key per NIC; an Ed25519 host key is generated under the root's etc/ssh/ if there is \
            none), waits until the broker releases it, then runs the ctx-scripts in the six phases and \
            reports ok or the error. It stays attached after ok, so that providers that join later are taken in.

            With no userdata from a metadata service it exits 0 without a word, as Nimbus's agent did on a VM \
            launched without context userdata; a --userdata file that does not exist is an error (status 1). \
            Flags override userdata fields.

            While the broker is away (unreachable, 5xx, 429) the scripts go on; what they do is queued and \
            delivered in order, once, when it is back. The agent never exits for that.

            Exit status (Nimbus's): 0 ok or detached (context ended, node killed, or retried and this token \
            replaced), 1 bad input (userdata or flags; a context, node or token the broker does not know: \
            404, 403, 401 at the first check-in), 2 bad configuration, 3 environment (including an identity \
            the broker refused: 422), 4 a ctx-script failed or timed out.

            Examples:
              muster-agent --userdata /etc/muster/userdata.json
              muster-agent --metadata http://169.254.169.254/latest
              muster-agent --userdata /etc/muster/userdata.json \\
                --metadata http://169.254.169.254/latest
              muster-agent --broker http://10.0.0.5:7077 --context cpe-3f9a \\
                --node rabbitmq-head-0 --token-file /etc/muster/token \\
                --nic public=10.0.0.7,head.example.org --root /
            """,
        version: "0.1.0"
    )

    @Option(help: ArgumentHelp("Read userdata from this file (it must exist).", valueName: "file"))
    var userdata: String?

    @Option(help: ArgumentHelp("Fetch userdata from this URL.", valueName: "url"))
    var userdataURL: String?

    @Option(
        help: ArgumentHelp(
            "An EC2-style metadata service (…/latest): the userdata (unless --userdata gives it) and the node's addresses come from it.",
            valueName: "url"
        )
    )
    var metadata: String?

    @Option(help: "The broker's URL.") var broker: String?
    @Option(help: "The context id.") var context: String?
    @Option(help: "This node's name.") var node: String?
    @Option(help: ArgumentHelp("Read the node token from this file.", valueName: "file")) var tokenFile: String?
    @Option(help: ArgumentHelp("A PEM CA certificate to trust for the broker's TLS.", valueName: "file")) var caCert: String?
    @Option(help: "The slot generation.") var generation: Int?
    @Option(help: ArgumentHelp("The node's root folder (default /).", valueName: "dir")) var root: String?
    @Option(help: ArgumentHelp("A NIC: LABEL=IP,HOSTNAME (repeat for each NIC).", valueName: "nic")) var nic: [String] = []
    @Option(help: ArgumentHelp("The longest one ctx-script may run.", valueName: "seconds")) var scriptTimeout: Double?
    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: Logger.Level = .info

    @Flag(
        help: ArgumentHelp(
            "Stop this node (every process of the agent's session) when standard input reaches its end: the launcher gave the agent "
                + "a lifeline, and it ended."
        )
    )
    var lifeline = false

    func run() async throws {
        var logger = Logger(label: "muster-agent")
        logger.logLevel = logLevel
        if lifeline { Self.watchLifeline(logger: logger) }

        var raw: Data?
        do {
            if let userdata {
                let url = URL(fileURLWithPath: userdata)
                guard let data = try UserdataFile.read(url) else {
                    throw AgentError.input("no userdata file at \(url.standardizedFileURL.path)")
                }
                raw = data
            } else if let userdataURL {
                raw = try await Self.fetch(userdataURL)
            } else if let metadata {
                let service = InstanceMetadata(base: metadata)
                raw = try await service.userdata()
            }
        } catch let error as AgentError {
            logger.error("cannot read the userdata", metadata: ["error": "\(error.message)"])
            throw ExitCode(Int32(error.code))
        } catch {
            logger.error("cannot read the userdata", metadata: ["error": "\(error)"])
            throw ExitCode(Int32(NodeExitCode.input))
        }

        let flags: AgentBootstrap.Fields
        do {
            flags = try self.flags()
        } catch {
            logger.error("bad flags", metadata: ["error": "\(error.message)"])
            throw ExitCode(Int32(error.code))
        }
        switch BootstrapDecision.decide(userdata: raw, flags: flags) {
        case .exitQuietly(let reason):
            logger.debug("nothing to do", metadata: ["reason": "\(reason)"])
            return
        case .fail(let error):
            logger.error("bad userdata or flags", metadata: ["error": "\(error.message)"])
            throw ExitCode(Int32(error.code))
        case .run(let bootstrap):
            logger[metadataKey: "node"] = .string(bootstrap.node)
            let status = await AgentSession(bootstrap: bootstrap, logger: logger).run()
            if status != 0 { throw ExitCode(status) }
        }
    }

    /// Watches standard input (the launcher's lifeline); when it ends, ends every process of this node and exits.
    ///
    /// The local launcher starts the agent as a session leader, so the node's processes are the session's:
    /// scripts, and the services they left running. An agent that does not lead its session (started by hand)
    /// only exits: ending its session would end the shell that started it.
    private static func watchLifeline(logger: Logger) {
        Task.detached {
            await Lifeline.waitUntilCut(fileDescriptor: STDIN_FILENO)
            let me = getpid()
            if getsid(0) == me {
                logger.notice("the launcher is gone; stopping every process of this node")
                await ProcessSession.terminate(me, grace: .seconds(2), sparing: me)
            } else {
                logger.notice("the launcher is gone; exiting")
            }
            Glibc.exit(0)
        }
    }

    /// The fields given by flags, which override the userdata's.
    private func flags() throws(AgentError) -> AgentBootstrap.Fields {
        var fields = AgentBootstrap.Fields(
            broker: broker,
            context: context,
            node: node,
            generation: generation,
            root: root.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
            scriptTimeoutSeconds: scriptTimeout,
            metadata: metadata
        )
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw .input("cannot read the token file \(tokenFile)")
            }
            fields.token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let token = ProcessInfo.processInfo.environment[AgentBootstrap.tokenVariable], !token.isEmpty {
            fields.token = token
        }
        if let caCert {
            guard let data = FileManager.default.contents(atPath: caCert) else {
                throw .input("cannot read the CA certificate \(caCert)")
            }
            fields.caCertificatePEM = String(decoding: data, as: UTF8.self)
        }
        if !nic.isEmpty {
            fields.nics = try nic.map { (text: String) throws(AgentError) -> AgentBootstrap.NICHint in
                guard let equals = text.firstIndex(of: "=") else { return AgentBootstrap.NICHint(label: text) }
                let label = String(text[..<equals])
                let parts = text[text.index(after: equals)...].split(separator: ",", maxSplits: 1).map(String.init)
                guard !label.isEmpty else { throw .input("--nic needs LABEL=IP,HOSTNAME, not '\(text)'") }
                return AgentBootstrap.NICHint(label: label, ip: parts.first, hostname: parts.count > 1 ? parts[1] : nil)
            }
        }
        return fields
    }

    static func fetch(_ url: String, headers: [(String, String)] = []) async throws -> Data? {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        if response.status == .notFound { return nil }
        guard response.status == .ok else { throw AgentError.input("GET \(url) answered \(response.status)") }
        let body = try await response.body.collect(upTo: 1 << 20)
        return Data(body.readableBytesView)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
