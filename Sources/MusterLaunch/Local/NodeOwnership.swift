import Foundation

/// What the launcher does to a node's folders when the node runs under a user id of its own
/// (``NodeIsolation/separateUsers(_:)``) while the launcher runs as root.
///
/// Every change is made without following links: a node owns its root and may have put links there.
enum NodeOwnership {
    /// Makes the work folder crossable but not listable or writable by others (0711): node users must cross it to
    /// reach their roots, and must not learn what else it holds. What it holds for the broker is readable by its
    /// owner only (0600 files, 0700 folders), so crossing it reveals nothing.
    static func restrictToCrossing(_ folder: String) throws(LaunchError) {
        var info = stat()
        guard lstat(folder, &info) == 0 else { throw LaunchError("cannot read \(folder): \(String(cString: strerror(errno)))") }
        guard info.st_mode & 0o7777 != 0o711 else { return }
        guard chmod(folder, 0o711) == 0 else {
            throw LaunchError("cannot make \(folder) crossable (0711) for node users: \(String(cString: strerror(errno)))")
        }
    }

    /// Removes `path` when it is there and is not of `kind` (`S_IFDIR`, `S_IFREG`): a link, a FIFO that would block
    /// the launcher's open, a file where a folder belongs.
    static func remove(_ path: String, unlessItIs kind: mode_t) throws(LaunchError) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT != kind else { return }
        let removed =
            info.st_mode & S_IFMT == S_IFDIR ? rmdir(path) == 0 || (try? FileManager.default.removeItem(atPath: path)) != nil : unlink(path) == 0
        guard removed else { throw LaunchError("cannot remove \(path): \(String(cString: strerror(errno)))") }
    }

    /// Gives `paths`, and the folder `tree` with everything in it, to `user` (user and group).
    static func give(_ paths: [String], andTreeOf tree: String, to user: uid_t) throws(LaunchError) {
        var all = paths + [tree]
        if let entries = FileManager.default.enumerator(atPath: tree) {
            for case let entry as String in entries { all.append((tree as NSString).appendingPathComponent(entry)) }
        }
        for path in all where lchown(path, user, user) != 0 {
            throw LaunchError("cannot give \(path) to the node's user \(user): \(String(cString: strerror(errno)))")
        }
    }
}
