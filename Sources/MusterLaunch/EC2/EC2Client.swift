import Foundation

/// The EC2 calls Muster makes, through the AWS CLI (``AWSCommandLine``).
public struct EC2Client: Sendable {
    /// What one `run-instances` starts.
    public struct InstanceSpec: Sendable, Hashable {
        /// The AMI id.
        public var imageID: String
        /// The instance type.
        public var instanceType: String
        /// The key pair, if any.
        public var keyName: String?
        /// The subnet, if any.
        public var subnet: String?
        /// Security group ids.
        public var securityGroups: [String]
        /// The userdata (cloud-init runs it); it may hold a secret, so it never appears on a command line.
        public var userdata: String
        /// Tags for the instance.
        public var tags: [EC2Instance.Tag]

        /// Creates a spec.
        public init(
            imageID: String,
            instanceType: String,
            keyName: String? = nil,
            subnet: String? = nil,
            securityGroups: [String] = [],
            userdata: String,
            tags: [EC2Instance.Tag] = []
        ) {
            self.imageID = imageID
            self.instanceType = instanceType
            self.keyName = keyName
            self.subnet = subnet
            self.securityGroups = securityGroups
            self.userdata = userdata
            self.tags = tags
        }
    }

    /// A `describe-*` filter.
    public struct Filter: Sendable, Hashable, Codable {
        /// The filter name (`tag:muster:context`, `instance-state-name`, …).
        public var name: String
        /// The values, any of which matches.
        public var values: [String]

        /// Creates a filter.
        public init(_ name: String, _ values: [String]) {
            self.name = name
            self.values = values
        }

        enum CodingKeys: String, CodingKey {
            case name = "Name"
            case values = "Values"
        }
    }

    /// The CLI runner.
    public let aws: AWSCommandLine

    /// Creates a client.
    public init(aws: AWSCommandLine) {
        self.aws = aws
    }

    /// Starts one instance that terminates itself when it shuts down; returns it as EC2 first reports it.
    public func runInstance(_ spec: InstanceSpec) async throws(AWSError) -> EC2Instance {
        let file = try Self.privateFile(spec.userdata)
        defer { try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent) }
        var arguments = [
            "ec2", "run-instances",
            "--count", "1",
            "--image-id", spec.imageID,
            "--instance-type", spec.instanceType,
            "--instance-initiated-shutdown-behavior", "terminate",
            "--user-data", "file://\(file)",
        ]
        if let key = spec.keyName { arguments += ["--key-name", key] }
        if let subnet = spec.subnet { arguments += ["--subnet-id", subnet] }
        if !spec.securityGroups.isEmpty { arguments += ["--security-group-ids"] + spec.securityGroups }
        if !spec.tags.isEmpty {
            arguments += ["--tag-specifications", try Self.json([TagSpecification(resourceType: "instance", tags: spec.tags)])]
        }
        let reservation = try await aws.json(EC2Reservation.self, arguments)
        guard let instance = reservation.instances.first else {
            throw AWSError(.badOutput, message: "ec2 run-instances answered no instance")
        }
        return instance
    }

    /// The instances that match every filter (an empty list matches all).
    public func describeInstances(filters: [Filter]) async throws(AWSError) -> [EC2Instance] {
        var arguments = ["ec2", "describe-instances"]
        if !filters.isEmpty { arguments += ["--filters", try Self.json(filters)] }
        return try await aws.json(EC2Reservations.self, arguments).reservations.flatMap(\.instances)
    }

    /// Terminates instances (terminating one that is already gone is not an error for EC2).
    public func terminateInstances(_ ids: [String]) async throws(AWSError) {
        guard !ids.isEmpty else { return }
        try await aws.run(["ec2", "terminate-instances", "--instance-ids"] + ids)
    }

    /// The images with these ids (`InvalidAMIID.NotFound` when one is unknown).
    public func describeImages(ids: [String]) async throws(AWSError) -> [EC2Image] {
        try await aws.json(EC2Images.self, ["ec2", "describe-images", "--image-ids"] + ids).images
    }

    /// The images whose name is one of `names`, from `owners` when given (`self`, `amazon`, an account id).
    public func describeImages(names: [String], owners: [String] = []) async throws(AWSError) -> [EC2Image] {
        var arguments = ["ec2", "describe-images", "--filters", try Self.json([Filter("name", names)])]
        if !owners.isEmpty { arguments += ["--owners"] + owners }
        return try await aws.json(EC2Images.self, arguments).images
    }

    /// An instance's userdata, decoded (nil when it has none).
    public func userdata(of instanceID: String) async throws(AWSError) -> String? {
        let answer = try await aws.json(
            EC2UserDataAttribute.self,
            ["ec2", "describe-instance-attribute", "--instance-id", instanceID, "--attribute", "userData"]
        )
        guard let text = answer.userData?.value, let data = Data(base64Encoded: text) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    private struct TagSpecification: Encodable {
        var resourceType: String
        var tags: [EC2Instance.Tag]

        enum CodingKeys: String, CodingKey {
            case resourceType = "ResourceType"
            case tags = "Tags"
        }
    }

    private static func json(_ value: some Encodable) throws(AWSError) -> String {
        do {
            return String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        } catch {
            throw AWSError(.failed, message: "cannot encode an AWS argument: \(error)")
        }
    }

    /// Writes `text` to a new file in a new folder only its owner can enter (userdata holds the node's token).
    private static func privateFile(_ text: String) throws(AWSError) -> String {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-ec2-\(UUID().uuidString)")
        let path = (folder as NSString).appendingPathComponent("userdata")
        guard mkdir(folder, 0o700) == 0 else {
            throw AWSError(.failed, message: "cannot create \(folder): \(String(cString: strerror(errno)))")
        }
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw AWSError(.failed, message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard result > 0 else { throw AWSError(.failed, message: "cannot write \(path): \(String(cString: strerror(errno)))") }
            written += result
        }
        return path
    }
}
