import ArgumentParser
import MusterLaunch

/// How `muster` calls AWS: through the AWS CLI (`aws`), with the user's own credential chain (profiles, SSO,
/// instance roles, environment variables); these only choose among what that chain offers.
struct AWSOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The AWS region (default: the AWS CLI's, from AWS_REGION or the profile).", valueName: "region"))
    var region: String?

    @Option(help: ArgumentHelp("The AWS CLI profile to use.", valueName: "name"))
    var profile: String?

    @Option(help: ArgumentHelp("Another EC2 endpoint (an EC2-compatible API, or a test server).", valueName: "url"))
    var endpointURL: String?

    var options: AWSCommandLine.Options {
        AWSCommandLine.Options(region: region, profile: profile, endpointURL: endpointURL)
    }
}

/// What EC2 instances are started with (`muster up --launcher ec2`).
struct EC2InstanceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The instance type of every node.", valueName: "type"))
    var instanceType = "t3.micro"

    @Option(
        name: .customLong("instance-type-for"),
        help: ArgumentHelp("One workspace's instance type (repeat for several).", valueName: "workspace=type")
    )
    var instanceTypes: [String] = []

    @Option(help: ArgumentHelp("The EC2 key pair to log in with.", valueName: "name"))
    var keyName: String?

    @Option(help: ArgumentHelp("The subnet to start instances in (default: the default VPC's).", valueName: "id"))
    var subnet: String?

    @Option(help: ArgumentHelp("A security group for the instances (repeat for several).", valueName: "id"))
    var securityGroup: [String] = []

    @Option(help: ArgumentHelp("An account whose AMIs an image name is looked up among (self, amazon, an id; repeat).", valueName: "owner"))
    var imageOwner: [String] = []

    /// The per-workspace instance types.
    func instanceTypesByWorkspace() throws(CommandFailure) -> [String: String] {
        var types: [String: String] = [:]
        for entry in instanceTypes {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw CommandFailure(ExitCodes.usage, "--instance-type-for needs WORKSPACE=TYPE, not '\(entry)'")
            }
            types[parts[0]] = parts[1]
        }
        return types
    }
}
