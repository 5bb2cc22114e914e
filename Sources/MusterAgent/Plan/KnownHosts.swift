import MusterCore

/// Every host a node knows about after release: the identities in its answer (all nodes', when it requires
/// all identities), the providers of the roles it requires, and its own identities, deduplicated by address
/// and host name, in that order.
///
/// Each host also says what the node does with it, following the answer's flags: identities shared with
/// `<requires><identity/>` and the node's own go everywhere; a role provider goes to `etc/hosts` only if the
/// role asked for `hostname="true"` and its key is trusted (known hosts, hosts.equiv) only with `pubkey="true"`.
///
/// **Only valid identities become hosts.** The broker validates identities at check-in, but a broker from before
/// that rule (or a compromised one) could hand out anything, and these values end up in files where `+` trusts
/// every host, `*` is a pattern, `@cert-authority` a marker and a newline another entry. So every identity is
/// checked again here (``MusterCore/Identity/validate()``); one that fails is left out, with a line in
/// ``refusals`` saying whose it was and why, and nothing of it is written anywhere.
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
    /// One line per identity left out as invalid (each once): whose it was, which NIC, what is wrong; made inert
    /// for a terminal.
    public private(set) var refusals: [String] = []
    private var refused: Set<Identity> = []

    /// Collects the hosts known from `answer` and the node's `own` identities.
    public init(answer: NodeAnswer, own: [Identity]) {
        for node in answer.identities {
            for identity in node.identities { add(identity, of: node.node, listed: true, trusted: true) }
        }
        for role in answer.roles {
            for provider in role.providers { add(provider.identity, of: provider.node, listed: role.hostname, trusted: role.pubkey) }
        }
        for identity in own { add(identity, of: nil, listed: true, trusted: true) }
    }

    private mutating func add(_ identity: Identity, of node: String?, listed: Bool, trusted: Bool) {
        do {
            try identity.validate()
        } catch {
            if refused.insert(identity).inserted { refusals.append(Self.refusal(error, of: node)) }
            return
        }
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
        return HostFiles(hosts: unique(hostsLines), hostsEquiv: unique(equivLines), knownHosts: unique(knownLines), notes: refusals)
    }

    /// The line that says an identity was left out.
    static func refusal(_ error: IdentityError, of node: String?) -> String {
        let whose = node.map { "node '\(TerminalText.inert(TerminalText.truncated($0, to: 60)))'" } ?? "this node"
        return "left out an identity of \(whose): \(error.message); no host file line and no script for it"
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
