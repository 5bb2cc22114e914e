import Foundation
import MusterSystem

/// Writes a node's host files under its root folder: `etc/hosts`, `etc/hosts.equiv` and
/// `etc/ssh/ssh_known_hosts`. Only the Muster-managed block of each is rewritten (see ``ManagedBlock``);
/// anything else in them is kept. On the local backend the root is the node's own folder, so the machine's
/// real `/etc` is never touched; on a cloud node the root is `/`.
public struct NodeFiles: Sendable {
    /// The node's root folder.
    public let root: URL

    /// Creates a writer for the node whose root folder is `root`.
    public init(root: URL) {
        self.root = root
    }

    /// `<root>/etc/hosts`.
    public var hosts: URL { root.appendingPathComponent("etc/hosts") }
    /// `<root>/etc/hosts.equiv`.
    public var hostsEquiv: URL { root.appendingPathComponent("etc/hosts.equiv") }
    /// `<root>/etc/ssh/ssh_known_hosts`.
    public var knownHosts: URL { root.appendingPathComponent("etc/ssh/ssh_known_hosts") }

    /// Rewrites the managed block of the three files with `files` (creating the files and folders as needed).
    ///
    /// - Throws: ``AgentError/environment(_:)`` (code 3) naming the file that could not be written.
    public func write(_ files: HostFiles) throws(AgentError) {
        try update(hosts, with: files.hosts)
        try update(hostsEquiv, with: files.hostsEquiv)
        try update(knownHosts, with: files.knownHosts)
    }

    private func update(_ url: URL, with lines: [String]) throws(AgentError) {
        do {
            let existing = FileManager.default.fileExists(atPath: url.path) ? try String(contentsOf: url, encoding: .utf8) : ""
            let mode = (try? FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int).map { mode_t($0) }
            try AtomicFile.write(Data(ManagedBlock.replace(in: existing, with: lines).utf8), to: url, mode: mode ?? 0o644)
        } catch {
            throw .environment("cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}
