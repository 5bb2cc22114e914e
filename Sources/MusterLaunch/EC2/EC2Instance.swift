/// One EC2 instance as `aws ec2 describe-instances` and `run-instances` report it (the fields Muster reads).
public struct EC2Instance: Sendable, Hashable, Codable {
    /// The instance's state (`pending`, `running`, `shutting-down`, `terminated`, `stopping`, `stopped`).
    public struct State: Sendable, Hashable, Codable {
        /// The state's name.
        public var name: String

        enum CodingKeys: String, CodingKey { case name = "Name" }
    }

    /// Why the instance is in its state (set when it ended early: `Server.InternalError`, …).
    public struct StateReason: Sendable, Hashable, Codable {
        /// The reason's code.
        public var code: String?
        /// The reason, for a person.
        public var message: String?

        enum CodingKeys: String, CodingKey {
            case code = "Code"
            case message = "Message"
        }
    }

    /// One tag.
    public struct Tag: Sendable, Hashable, Codable {
        /// The key.
        public var key: String
        /// The value.
        public var value: String

        /// Creates a tag.
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }

        enum CodingKeys: String, CodingKey {
            case key = "Key"
            case value = "Value"
        }
    }

    /// `i-…`.
    public var instanceID: String
    /// The state.
    public var state: State
    /// Why, when EC2 says.
    public var stateReason: StateReason?
    /// The AMI.
    public var imageID: String?
    /// The private address, once assigned.
    public var privateIP: String?
    /// The public address, once assigned.
    public var publicIP: String?
    /// The private DNS name.
    public var privateDNSName: String?
    /// The public DNS name.
    public var publicDNSName: String?
    /// The instance's index within its `run-instances` call.
    public var launchIndex: Int?
    /// The instance type (`t3.micro`).
    public var instanceType: String?
    /// Where it runs.
    public var placement: Placement?
    /// The tags.
    public var tags: [Tag]?

    /// The value of one tag.
    public func tag(_ key: String) -> String? { tags?.first { $0.key == key }?.value }

    enum CodingKeys: String, CodingKey {
        case instanceID = "InstanceId"
        case state = "State"
        case stateReason = "StateReason"
        case imageID = "ImageId"
        case privateIP = "PrivateIpAddress"
        case publicIP = "PublicIpAddress"
        case privateDNSName = "PrivateDnsName"
        case publicDNSName = "PublicDnsName"
        case launchIndex = "AmiLaunchIndex"
        case instanceType = "InstanceType"
        case placement = "Placement"
        case tags = "Tags"
    }

    /// Where an instance runs.
    public struct Placement: Sendable, Hashable, Codable {
        /// The availability zone (`us-east-1a`).
        public var availabilityZone: String?

        enum CodingKeys: String, CodingKey { case availabilityZone = "AvailabilityZone" }
    }
}

/// `run-instances`' answer.
struct EC2Reservation: Sendable, Codable {
    var instances: [EC2Instance]

    enum CodingKeys: String, CodingKey { case instances = "Instances" }
}

/// `describe-instances`' answer.
struct EC2Reservations: Sendable, Codable {
    var reservations: [EC2Reservation]

    enum CodingKeys: String, CodingKey { case reservations = "Reservations" }
}

/// One AMI as `aws ec2 describe-images` reports it.
public struct EC2Image: Sendable, Hashable, Codable {
    /// `ami-…`.
    public var imageID: String
    /// The AMI's name.
    public var name: String?
    /// When it was registered (ISO 8601 text, which sorts by time).
    public var creationDate: String?
    /// `available`, `pending`, …
    public var state: String?

    enum CodingKeys: String, CodingKey {
        case imageID = "ImageId"
        case name = "Name"
        case creationDate = "CreationDate"
        case state = "State"
    }
}

/// `describe-images`' answer.
struct EC2Images: Sendable, Codable {
    var images: [EC2Image]

    enum CodingKeys: String, CodingKey { case images = "Images" }
}

/// `describe-instance-attribute --attribute userData`'s answer.
struct EC2UserDataAttribute: Sendable, Codable {
    struct Value: Sendable, Codable {
        var value: String?

        enum CodingKeys: String, CodingKey { case value = "Value" }
    }

    var userData: Value?

    enum CodingKeys: String, CodingKey { case userData = "UserData" }
}
