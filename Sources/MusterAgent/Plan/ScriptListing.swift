/// What a node's ctx-scripts folder holds, as the planner sees it: the scripts at the top level and one level
/// down (`0-etchosts.sh`, `1-ipandhost/rabbitmq-head`, …) and the folders present (`3-data`, …).
///
/// The planner never reads the disk: ``read(from:)`` builds a listing from a real folder, and tests build one
/// from literals. Paths use `/` and are relative to the ctx-scripts folder.
public struct ScriptListing: Sendable, Hashable {
    /// Every regular file (or link to one), relative to the ctx-scripts folder.
    public var files: Set<String>
    /// Every folder at the top level of the ctx-scripts folder.
    public var folders: Set<String>

    /// Creates a listing from the files present; their folders are derived from the paths, plus `folders`
    /// (for empty folders, which matter for the `3-data` rule).
    public init(files: Set<String> = [], folders: Set<String> = []) {
        self.files = files
        var all = folders
        for file in files {
            if let slash = file.firstIndex(of: "/") { all.insert(String(file[..<slash])) }
        }
        self.folders = all
    }

    /// An empty listing: a node without a ctx-scripts folder.
    public static let empty = ScriptListing()

    /// Whether `path` (relative, for example `1-ipandhost/rabbitmq-head`) is a script the folder holds.
    public func contains(_ path: String) -> Bool { files.contains(path) }

    /// Whether the top-level folder `name` (for example `3-data`) exists, empty or not.
    public func hasFolder(_ name: String) -> Bool { folders.contains(name) }
}
