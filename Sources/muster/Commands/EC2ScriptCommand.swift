import ArgumentParser
import Foundation
import MusterBroker
import MusterClient
import MusterCore
import MusterLaunch

struct EC2ScriptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ec2script",
        abstract: "Create a context on a broker and write what it takes to boot it on EC2, without running anything.",
        discussion: """
            Like cloud-client's --ec2script: the context is created on the broker (which the instances must be \
            able to reach), then --output gets one userdata script per node (holding only that node's token, \
            readable by you only) and ec2-launch.sh with one `aws ec2 run-instances` per node, tagged and with \
            the options `muster up --launcher ec2` uses. Each <image> is an AMI id, or an AMI name looked up when \
            the script runs. On stock images the userdata fetches muster-agent from the broker and checks its \
            SHA-256 (that of the agent the broker's /v1/healthz lists, or of --agent-binary); images with \
            muster-agent installed use theirs. `muster up --launcher ec2` does all of this \
            in one command, and follows the boot.

            Examples:
              muster ec2script cluster.xml --output ec2-run \\
                --broker https://broker.example.org:7077 --ca-cert ca.pem
              muster ec2script cluster.xml --instance-type m5.large --key-name ops
            """
    )

    @Argument(help: ArgumentHelp("The cluster document.", valueName: "cluster.xml"), completion: .file(extensions: ["xml"]))
    var cluster: String

    @Option(help: ArgumentHelp("The folder to write into.", valueName: "dir"))
    var output = "ec2-launch"

    @OptionGroup(title: "EC2") var aws: AWSOptions
    @OptionGroup(title: "EC2 instances") var ec2: EC2InstanceOptions
    @Option(help: ArgumentHelp("The longest one ctx-script may run on the nodes.", valueName: "seconds")) var scriptTimeout: Int?
    @OptionGroup var brokerOptions: BrokerOptions
    @OptionGroup var agentBinary: AgentBinaryOptions

    func run() async throws {
        try await CommandFailure.reporting {
            let document = try DocumentFile.load(cluster)
            guard document.check.isValid else {
                Output.error(document.renderedDiagnostics(color: Terminal.wantsColor(fileDescriptor: STDERR_FILENO)))
                throw ExitCodes.invalidDocument
            }
            let broker = try brokerOptions.url()
            let caPath =
                brokerOptions.caCert.map { LocalPath.absolute($0) }
                ?? (FileManager.default.fileExists(atPath: brokerOptions.localCA) ? brokerOptions.localCA : nil)
            let ca = caPath.flatMap { FileManager.default.contents(atPath: $0) }.map { String(decoding: $0, as: UTF8.self) }
            let options = EC2Script.Options(
                instanceType: ec2.instanceType,
                instanceTypes: try ec2.instanceTypesByWorkspace(),
                keyName: ec2.keyName,
                securityGroups: ec2.securityGroup,
                subnet: ec2.subnet,
                aws: aws.options
            )
            try await WithBroker.run(brokerOptions) { client in
                let download = try await agentDownload(client)
                let created = try await client.createContext(document: Data(document.bytes), name: ContextName.from(path: cluster), launch: false)
                let script = try EC2Script(
                    context: created.context,
                    credentials: created.credentials,
                    broker: broker,
                    options: options,
                    scriptTimeoutSeconds: scriptTimeout,
                    caCertificatePEM: ca,
                    download: download
                )
                do {
                    try script.write(to: LocalPath.absolute(output))
                } catch {
                    throw CommandFailure(ExitCodes.cannotCreate, "cannot write into \(output): \(error.localizedDescription)")
                }
                Output.line(
                    "context \(created.context.id) created on \(broker) (\(Plural.count(created.context.nodes.count, "node")), nothing launched)"
                )
                Output.line("wrote \(Plural.count(script.files.count, "file")) to \(output)/; review, then run: sh \(output)/ec2-launch.sh")
            }
        }
    }

    /// The SHA-256 of the agents the broker serves, which the userdata checks: from --agent-binary when given,
    /// else as the broker's `/v1/healthz` reports them, else (an older broker) the ones beside this `muster`.
    /// Warns about each one a stock image could not start.
    private func agentDownload(_ client: OperatorClient) async throws -> EC2Userdata.AgentDownload? {
        if agentBinary.paths.isEmpty, let served = try? await client.health().agents {
            for agent in served where agent.linkage == "dynamic" {
                Output.error(
                    "warning: the broker serves \(agent.file) for linux/\(agent.architecture), linked dynamically against the Swift runtime: "
                        + "it will not start on an image without Swift; give the broker one built with \(AgentDownload.staticBuildCommand)"
                )
            }
            if served.isEmpty { Output.error("warning: the broker serves no muster-agent: only images that carry one can boot") }
            return served.isEmpty ? nil : EC2Userdata.AgentDownload(sha256: Dictionary(served.map { ($0.architecture, $0.sha256) }) { a, _ in a })
        }
        return try agentBinary.downloadWarning().map { EC2Userdata.AgentDownload(sha256: $0.sha256) }
    }
}
