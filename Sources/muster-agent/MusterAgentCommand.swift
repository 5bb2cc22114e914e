import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import MusterAgent
import MusterCore
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

            With no userdata it exits 0 without a word, as Nimbus's agent did. Flags override userdata fields.

            Exit status (Nimbus's): 0 ok or detached, 1 bad input, 2 bad configuration, 3 environment, 4 a \
            ctx-script failed or timed out.

            Examples:
              muster-agent --userdata /etc/muster/userdata.json
              muster-agent --metadata http://169.254.169.254/latest
              muster-agent --userdata /etc/muster/userdata.json --metadata http://169.254.169.254/latest
              muster-agent --broker http://10.0.0.5:7077 --context cpe-3f9a --node rabbitmq-head-0 \\
                  --token-file /etc/muster/token --nic public=10.0.0.7,head.example.org --root /
            """,
        version: "0.1.0"
    )

    @Option(help: ArgumentHelp("Read userdata from this file.", valueName: "file"))
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
    @Option(help: "The slot generation.") var generation: Int?
    @Option(help: ArgumentHelp("The node's root folder (default /).", valueName: "dir")) var root: String?
    @Option(help: ArgumentHelp("A NIC: LABEL=IP,HOSTNAME (repeat for each NIC).", valueName: "nic")) var nic: [String] = []
    @Option(help: ArgumentHelp("The longest one ctx-script may run.", valueName: "seconds")) var scriptTimeout: Double?
    @Option(help: ArgumentHelp("Log level.", valueName: "level")) var logLevel: String = "info"

    func run() async throws {
        var logger = Logger(label: "muster-agent")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info

        var raw: Data?
        var launchIndex: Int?
        do {
            if let userdata {
                raw = try UserdataFile.read(URL(fileURLWithPath: userdata))
            } else if let userdataURL {
                raw = try await Self.fetch(userdataURL)
            } else if let metadata {
                let service = InstanceMetadata(base: metadata)
                raw = try await service.userdata()
                launchIndex = try await service.launchIndex()
            }
        } catch let error as AgentError {
            logger.error("cannot read the userdata", metadata: ["error": "\(error.message)"])
            throw ExitCode(Int32(error.code))
        } catch {
            logger.error("cannot read the userdata", metadata: ["error": "\(error)"])
            throw ExitCode(Int32(NodeExitCode.input))
        }

        switch BootstrapDecision.decide(userdata: raw, flags: try flags(), launchIndex: launchIndex) {
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

    /// The fields given by flags, which override the userdata's.
    private func flags() throws -> AgentBootstrap.Fields {
        var fields = AgentBootstrap.Fields(
            broker: broker,
            context: context,
            node: node,
            generation: generation,
            root: root,
            scriptTimeoutSeconds: scriptTimeout,
            metadata: metadata
        )
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw ValidationError("cannot read the token file \(tokenFile)")
            }
            fields.token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let token = ProcessInfo.processInfo.environment[AgentBootstrap.tokenVariable], !token.isEmpty {
            fields.token = token
        }
        if !nic.isEmpty {
            fields.nics = try nic.map { text in
                guard let equals = text.firstIndex(of: "=") else { return AgentBootstrap.NICHint(label: text) }
                let label = String(text[..<equals])
                let parts = text[text.index(after: equals)...].split(separator: ",", maxSplits: 1).map(String.init)
                guard !label.isEmpty else { throw ValidationError("--nic needs LABEL=IP,HOSTNAME, not '\(text)'") }
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
