import Foundation

/// A context's name from its cluster file: the file name without extension, or the folder's name when the
/// file is just `cluster.xml` (`Examples/cpe/cluster.xml` → `cpe`).
enum ContextName {
    static func from(path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let base = url.deletingPathExtension().lastPathComponent
        if base == "cluster" || base.isEmpty {
            let folder = url.deletingLastPathComponent().lastPathComponent
            if !folder.isEmpty && folder != "/" && folder != "." { return folder }
        }
        return base
    }
}
