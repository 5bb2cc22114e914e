import MusterCore

/// Every host a node knows about after release: the identities in its answer (all nodes', when it requires
/// all identities), the providers of the roles it requires, and its own identities, deduplicated by address
/// and host name, in that order.
///
/// Each host also says what the node does with it, following the answer's flags: identities shared with
/// `<requires><identity/>` and the node's own go everywhere; a role provider goes to `etc/hosts` only if the
/// role asked for `hostname="true"` and its key is trusted (known hosts, hosts.equiv) only with `pubkey="true"`.
public struct KnownHosts: Sendable, Hashable {
    /// One known host.
    public struct Host: Sendable, Hashable {
        /// The address.
        public var ip: String
        /// The fully qualified host name.
        public var hostname: String
        /// The SSH host public key (OpenSSH format), possibly empty.
        public var pubkey: String
        /// Whether the host gets an `etc/hosts` line.
        public var listed: Bool
        /// Whether its key is trusted (`ssh_known_hosts`, `hosts.equiv`).
        public var trusted: Bool

        /// The host name up to its first dot.
        public var shortName: String { Identity(interface: "", ip: ip, hostname: hostname, pubkey: "").shortName }
    }

    /// The hosts, in first-seen order.
    public private(set) var hosts: [Host] = []

    /// Collects the hosts known from `answer` and the node's `own` identities.
    public init(answer: NodeAnswer, own: [Identity]) {
        for node in answer.identities {
            for identity in node.identities { add(identity, listed: true, trusted: true) }
        }
        for role in answer.roles {
            for provider in role.providers { add(provider.identity, listed: role.hostname, trusted: role.pubkey) }
        }
        for identity in own { add(identity, listed: true, trusted: true) }
    }

    private mutating func add(_ identity: Identity, listed: Bool, trusted: Bool) {
        if let index = hosts.firstIndex(where: { $0.ip == identity.ip && $0.hostname == identity.hostname }) {
            hosts[index].listed = hosts[index].listed || listed
            hosts[index].trusted = hosts[index].trusted || trusted
            if hosts[index].pubkey.isEmpty { hosts[index].pubkey = identity.pubkey }
        } else {
            hosts.append(Host(ip: identity.ip, hostname: identity.hostname, pubkey: identity.pubkey, listed: listed, trusted: trusted))
        }
    }

    /// The content of the three files the built-in step writes.
    public var files: HostFiles {
        var hostsLines: [String] = []
        var equivLines: [String] = []
        var knownLines: [String] = []
        for host in hosts {
            let names = host.shortName == host.hostname ? [host.hostname] : [host.hostname, host.shortName]
            if host.listed { hostsLines.append(([host.ip] + names).joined(separator: " ")) }
            guard host.trusted, let key = KnownHosts.keyField(host.pubkey) else { continue }
            equivLines += names
            knownLines += names.map { "\($0),\(host.ip) \(key)" }
        }
        return HostFiles(hosts: unique(hostsLines), hostsEquiv: unique(equivLines), knownHosts: unique(knownLines))
    }

    /// `type base64` of an OpenSSH public key line, without its comment; `nil` when there is no key.
    static func keyField(_ pubkey: String) -> String? {
        let fields = pubkey.split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2 else { return nil }
        return "\(fields[0]) \(fields[1])"
    }
}

private func unique(_ lines: [String]) -> [String] {
    var seen: Set<String> = []
    return lines.filter { seen.insert($0).inserted }
}
