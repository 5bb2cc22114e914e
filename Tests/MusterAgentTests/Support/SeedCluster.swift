import MusterCore

/// The seed page's cluster: `rabbitmq-head` and three dependents (provisioner, scheduler, aggregator) that
/// require every identity and the `rabbitmq-head` role with hostname and pubkey.
enum SeedCluster {
    /// A well-formed Ed25519 host key line for `name` (made-up key bytes: only the form is checked).
    static func key(_ name: String) -> String { SSHPublicKey(ed25519: keyBytes(name), comment: "root@\(name)").line }

    /// `TYPE BASE64` of ``key(_:)``, as `ssh_known_hosts` holds it.
    static func keyField(_ name: String) -> String { SSHPublicKey(ed25519: keyBytes(name)).keyField }

    private static func keyBytes(_ name: String) -> [UInt8] {
        var bytes = [UInt8](repeating: 0x5A, count: 32)
        for (offset, byte) in name.utf8.enumerated() { bytes[offset % 32] = bytes[offset % 32] &+ byte &+ UInt8(truncatingIfNeeded: offset) }
        return bytes
    }

    static let head = Identity(interface: "publicnic", ip: "10.0.3.1", hostname: "foo.bar.com", pubkey: key("head"))
    static let provisioner = Identity(interface: "publicnic", ip: "10.0.3.2", hostname: "provisioner-0.ctx.muster.local", pubkey: key("prov"))
    static let scheduler = Identity(interface: "publicnic", ip: "10.0.3.3", hostname: "scheduler-0.ctx.muster.local", pubkey: key("sched"))
    static let aggregator = Identity(interface: "publicnic", ip: "10.0.3.4", hostname: "aggregator-0.ctx.muster.local", pubkey: key("aggr"))

    /// What the provisioner is told once released.
    static func dependentAnswer(version: Int = 1, data: [DataSpec] = []) -> NodeAnswer {
        NodeAnswer(
            version: version,
            identities: [
                NodeIdentities(node: "rabbitmq-head-0", identities: [head]),
                NodeIdentities(node: "provisioner-0", identities: [provisioner]),
                NodeIdentities(node: "scheduler-0", identities: [scheduler]),
                NodeIdentities(node: "aggregator-0", identities: [aggregator]),
            ],
            roles: [
                RoleAnswer(
                    role: "rabbitmq-head",
                    hostname: true,
                    pubkey: true,
                    providers: [RoleAnswer.Provider(node: "rabbitmq-head-0", identity: head)]
                )
            ],
            data: data
        )
    }

    /// The arguments a script gets for an identity: IP, short name, FQDN.
    static func arguments(_ identity: Identity) -> [String] { [identity.ip, identity.shortName, identity.hostname] }
}
