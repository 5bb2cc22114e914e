import Foundation

/// Where a node's things are: its root folder (`/` on a cloud node, the node's own folder on the local
/// backend), its ctx-scripts folder, and the agent's private folder `<root>/.muster-agent/`.
public struct NodeLayout: Sendable, Hashable {
    /// The node's root folder; `etc/…` files are written under it.
    public var root: URL
    /// The ctx-scripts folder.
    public var scripts: URL

    /// Creates a layout; `scripts` defaults to `<root>/ctx-scripts`.
    public init(root: URL, scripts: URL? = nil) {
        self.root = root
        self.scripts = scripts ?? root.appendingPathComponent("ctx-scripts")
    }

    /// `<root>/.muster-agent/`: the agent's own files (mode 0700).
    public var agentFolder: URL { root.appendingPathComponent(".muster-agent") }
    /// `<root>/.muster-agent/progress.json`: the ``ProgressRecord``.
    public var progressFile: URL { agentFolder.appendingPathComponent("progress.json") }
    /// `<root>/.muster-agent/data/`: the `3-data` value files, each only while its script runs.
    public var dataFolder: URL { agentFolder.appendingPathComponent("data") }
}
