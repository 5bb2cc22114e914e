import MusterCore

/// Names a cloud node's NICs from what the instance metadata service says, as Nimbus's context agent did:
/// a machine NIC that carries `local-ipv4` is `localnic` (with `local-hostname`), one that carries
/// `public-ipv4` is `publicnic` (with `public-hostname`); one NIC gives one identity, two give both.
///
/// When none of the machine's own addresses is in the metadata (a public address NATed to the machine, or an
/// emulated instance), the metadata's distinct addresses stand for the NICs. When the launcher named the
/// node's NICs (hints), each hint is matched by its label instead: `localnic` or a label starting with
/// `private`/`local` takes the local address, `publicnic` or one starting with `public` the public one, and a
/// single other label takes the one NIC's. When the instance lacks the address a label asks for, it takes the
/// other one.
public enum MetadataIdentities {
    /// The local NIC's name.
    public static let local = "localnic"
    /// The public NIC's name.
    public static let `public` = "publicnic"

    /// The node's identities, or `nil` when the metadata names no address.
    public static func identities(
        network: InstanceMetadata.Network,
        machineAddresses: [String],
        hints: [AgentBootstrap.NICHint],
        fallbackHostname: String?,
        pubkey: String
    ) -> [Identity]? {
        let local = network.localIPv4.map { (ip: $0, hostname: network.localHostname ?? network.publicHostname ?? fallbackHostname) }
        let remote = network.publicIPv4.map { (ip: $0, hostname: network.publicHostname ?? network.localHostname ?? fallbackHostname) }
        guard local != nil || remote != nil else { return nil }

        // Which metadata addresses are NICs of this machine (Nimbus matched real NICs by address).
        var nics: [(name: String, ip: String, hostname: String?)] = []
        let carried = [local.map { (Self.local, $0) }, remote.map { (Self.public, $0) }].compactMap { $0 }
            .filter { machineAddresses.contains($0.1.ip) }
        if !carried.isEmpty {
            nics = carried.map { ($0.0, $0.1.ip, $0.1.hostname) }
        } else if let local, let remote, local.ip != remote.ip {
            nics = [(Self.local, local.ip, local.hostname), (Self.public, remote.ip, remote.hostname)]
        } else if let local {
            nics = [(Self.local, local.ip, local.hostname)]
        } else if let remote {
            nics = [(Self.public, remote.ip, remote.hostname)]
        }
        if nics.count == 2, nics[0].ip == nics[1].ip { nics = [nics[0]] }

        guard !hints.isEmpty else {
            return nics.compactMap { nic in nic.hostname.map { Identity(interface: nic.name, ip: nic.ip, hostname: $0, pubkey: pubkey) } }
        }
        var identities: [Identity] = []
        for hint in hints {
            let wanted = role(of: hint.label)
            let nic =
                hints.count == 1 && wanted == nil
                ? nics.first
                // A NIC named public on an instance without a public address (a private subnet) takes the local
                // one, and the other way round: the document names the NIC, the instance has what it has.
                : (wanted == Self.public ? (remote ?? local) : (local ?? remote)).map { (hint.label, $0.ip, $0.hostname) }
            guard let ip = hint.ip ?? nic?.1, let hostname = hint.hostname ?? nic?.2 else { return nil }
            identities.append(Identity(interface: hint.label, ip: ip, hostname: hostname, pubkey: pubkey))
        }
        return identities
    }

    /// Which metadata address a NIC label asks for.
    static func role(of label: String) -> String? {
        let lower = label.lowercased()
        if lower == Self.public || lower.hasPrefix("public") { return Self.public }
        if lower == Self.local || lower.hasPrefix("private") || lower.hasPrefix("local") { return Self.local }
        return nil
    }
}
