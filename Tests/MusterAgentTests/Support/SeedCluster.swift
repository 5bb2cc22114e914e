import MusterCore

/// The seed page's cluster: `rabbitmq-head` and three dependents (provisioner, scheduler, aggregator) that
/// require every identity and the `rabbitmq-head` role with hostname and pubkey.
enum SeedCluster {
    static func key(_ name: String) -> String { "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI\(name) root@\(name)" }

    static let head = Identity(interface: "public", ip: "10.0.3.1", hostname: "foo.bar.com", pubkey: key("head"))
    static let provisioner = Identity(interface: "public", ip: "10.0.3.2", hostname: "provisioner-0.ctx.muster.local", pubkey: key("prov"))
    static let scheduler = Identity(interface: "public", ip: "10.0.3.3", hostname: "scheduler-0.ctx.muster.local", pubkey: key("sched"))
    static let aggregator = Identity(interface: "public", ip: "10.0.3.4", hostname: "aggregator-0.ctx.muster.local", pubkey: key("aggr"))

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
