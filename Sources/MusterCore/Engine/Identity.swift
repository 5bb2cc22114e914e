/// What a node reports about one of its NICs when it checks in.
public struct Identity: Sendable, Hashable, Codable {
    /// The NIC label (``NICSpec/label``) this identity is for.
    public var interface: String
    /// The address on that NIC.
    public var ip: String
    /// The fully qualified host name.
    public var hostname: String
    /// The SSH host public key, in OpenSSH format (`ssh-ed25519 AAAA… comment`).
    public var pubkey: String

    /// Creates an identity.
    public init(interface: String, ip: String, hostname: String, pubkey: String) {
        self.interface = interface
        self.ip = ip
        self.hostname = hostname
        self.pubkey = pubkey
    }

    /// The host name up to its first dot.
    public var shortName: String {
        hostname.split(separator: ".", maxSplits: 1).first.map(String.init) ?? hostname
    }
}
