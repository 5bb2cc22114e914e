import ArgumentParser
import Foundation
import MusterClient
import MusterCore
import MusterLaunch

struct EC2ScriptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ec2script",
        abstract: "Create a context on a broker and write what it takes to boot it on EC2, without running anything.",
        discussion: """
            Like cloud-client's --ec2script: the context is created on the broker (which must be reachable from \
            the instances), then --output gets one userdata file per node, one bundle per workspace (each \
            instance's agent picks its own entry by its ami-launch-index), and ec2-launch.sh with one \
            `aws ec2 run-instances` per workspace. Each <image> is used as the AMI id. Userdata files hold node \
            tokens and are written readable by their owner only.

            The images must run `muster-agent --metadata http://169.254.169.254/latest` at boot.

            Examples:
              muster ec2script cluster.xml --broker https://broker.example.org:7077 --output ec2-run
              muster ec2script cluster.xml --broker http://10.0.0.5:7077 --instance-type m5.large --key-name ops
            """
    )

    @Argument(help: ArgumentHelp("The cluster document.", valueName: "cluster.xml"))
    var cluster: String

    @Option(help: ArgumentHelp("The folder to write into.", valueName: "dir"))
    var output = "ec2-launch"

    @Option(help: "The instance type.") var instanceType = "t3.micro"
    @Option(help: "The EC2 key pair name.") var keyName: String?
    @Option(help: "Security group ids (repeat for several).") var securityGroup: [String] = []
    @Option(help: "The subnet id.") var subnet: String?
    @Option(help: ArgumentHelp("The longest one ctx-script may run on the nodes.", valueName: "seconds")) var scriptTimeout: Int?
    @OptionGroup var brokerOptions: BrokerOptions

    func run() async throws {
        let document = try DocumentFile.load(cluster)
        guard document.check.isValid else {
            Output.error(document.renderedDiagnostics(color: Terminal.wantsColor(fileDescriptor: STDERR_FILENO)))
            throw ExitCodes.invalidDocument
        }
        let broker = try brokerOptions.url()
        try await WithBroker.run(brokerOptions) { client in
            let created = try await client.createContext(document: Data(document.bytes), name: ContextName.from(path: cluster), launch: false)
            let script = EC2Script(
                context: created.context,
                credentials: created.credentials,
                broker: broker,
                options: .init(instanceType: instanceType, keyName: keyName, securityGroups: securityGroup, subnet: subnet),
                scriptTimeoutSeconds: scriptTimeout
            )
            try script.write(to: output)
            Output.line("context \(created.context.id) created on \(broker) (\(created.context.nodes.count) nodes, nothing launched)")
            Output.line("wrote \(script.files.count) files to \(output)/; review, then run: sh \(output)/ec2-launch.sh")
        }
    }
}
