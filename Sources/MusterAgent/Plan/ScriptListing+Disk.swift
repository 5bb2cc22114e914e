import Foundation

extension ScriptListing {
    /// Lists a ctx-scripts folder on disk: regular files (or links to them) at its top level and in its
    /// top-level folders, and those folders. Hidden entries (`.name`) are ignored, as are deeper levels.
    ///
    /// A missing folder is an empty listing: a node may have no scripts at all (every step is then skipped).
    ///
    /// - Throws: ``AgentError/environment(_:)`` when the folder exists but cannot be read.
    public static func read(from folder: URL) throws(AgentError) -> ScriptListing {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: folder.path, isDirectory: &isDirectory) else { return .empty }
        guard isDirectory.boolValue else { throw .environment("\(folder.path) is not a folder") }
        var files: Set<String> = []
        var folders: Set<String> = []
        do {
            for name in try manager.contentsOfDirectory(atPath: folder.path) where !name.hasPrefix(".") {
                let entry = folder.appendingPathComponent(name)
                switch kind(of: entry) {
                case .file: files.insert(name)
                case .folder:
                    folders.insert(name)
                    for inner in try manager.contentsOfDirectory(atPath: entry.path) where !inner.hasPrefix(".") {
                        if kind(of: entry.appendingPathComponent(inner)) == .file { files.insert("\(name)/\(inner)") }
                    }
                case .other: continue
                }
            }
        } catch {
            throw .environment("cannot list \(folder.path): \(error.localizedDescription)")
        }
        return ScriptListing(files: files, folders: folders)
    }

    private enum EntryKind { case file, folder, other }

    /// What an entry is, following symbolic links.
    private static func kind(of url: URL) -> EntryKind {
        guard let type = try? FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)[.type] as? FileAttributeType
        else { return .other }
        switch type {
        case .typeRegular: return .file
        case .typeDirectory: return .folder
        default: return .other
        }
    }
}
