import Foundation

/// Paths the user typed, made absolute where they are parsed: every folder a command hands to a broker, a
/// launcher or an agent is absolute, so that nothing downstream depends on the working directory of the
/// process that reads it (an agent runs in its node's folder, not in the operator's).
enum LocalPath {
    /// `path` as an absolute, standardized path: `~` is the home folder, a relative path is taken from `base`
    /// (the current directory by default).
    static func absolute(_ path: String, from base: String = FileManager.default.currentDirectoryPath) -> String {
        var expanded = path
        if expanded == "~" || expanded.hasPrefix("~/") {
            expanded = NSHomeDirectory() + expanded.dropFirst()
        }
        if !expanded.hasPrefix("/") { expanded = (base as NSString).appendingPathComponent(expanded) }
        return (expanded as NSString).standardizingPath
    }

    /// An absolute path as a person reads it best: relative to the current directory when it is inside it.
    static func display(_ path: String, from base: String = FileManager.default.currentDirectoryPath) -> String {
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
