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
            SHA-256; images with muster-agent installed use theirs. `muster up --launcher ec2` does all of this \
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
            let download = (try? AgentDownload(folder: Installation.executableFolder.path)).map { EC2Userdata.AgentDownload(sha256: $0.sha256) }
            let options = EC2Script.Options(
                instanceType: ec2.instanceType,
                instanceTypes: try ec2.instanceTypesByWorkspace(),
                keyName: ec2.keyName,
                securityGroups: ec2.securityGroup,
                subnet: ec2.subnet,
                aws: aws.options
            )
            try await WithBroker.run(brokerOptions) { client in
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
                Output.line("context \(created.context.id) created on \(broker) (\(created.context.nodes.count) nodes, nothing launched)")
                Output.line("wrote \(script.files.count) files to \(output)/; review, then run: sh \(output)/ec2-launch.sh")
            }
        }
    }
}
