/// The Muster-managed lines of a node's host files: `etc/hosts`, `etc/hosts.equiv` and
/// `etc/ssh/ssh_known_hosts` under its root folder. ``NodeFiles`` writes them.
public struct HostFiles: Sendable, Hashable {
    /// `etc/hosts` lines: `IP FQDN short`.
    public var hosts: [String]
    /// `etc/hosts.equiv` lines: one host name (FQDN or short) per line.
    public var hostsEquiv: [String]
    /// `etc/ssh/ssh_known_hosts` lines: `FQDN,IP type key` and `short,IP type key`.
    public var knownHosts: [String]
    /// What the node's output says before the files are written: identities left out as invalid (see
    /// ``KnownHosts/refusals``).
    public var notes: [String]

    /// Creates the content.
    public init(hosts: [String], hostsEquiv: [String], knownHosts: [String], notes: [String] = []) {
        self.hosts = hosts
        self.hostsEquiv = hostsEquiv
        self.knownHosts = knownHosts
        self.notes = notes
    }
}
