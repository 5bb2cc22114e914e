import Foundation
import MusterSystem

/// A `3-data` value in a file of its own for the time its script runs: mode 0600 in a 0700 folder under the
/// node's `.muster-agent/`, holding the value's UTF-8 bytes exactly, and removed afterwards.
///
/// The folder is inside the node root (not the system's temporary folder) so that nothing is left outside
/// the node, and ``clearLeftovers(in:)`` removes what a crashed agent could not.
struct DataFile {
    /// The file.
    let url: URL

    /// Writes `value` to a new file named after `name` in `folder`.
    init(name: String, value: String, in folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder.path)
        url = folder.appendingPathComponent("\(name).\(UUID().uuidString)")
        try AtomicFile.create(url, with: Data(value.utf8), mode: 0o600)
    }

    /// Removes the file.
    func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    /// Removes every value file left in `folder` (by an agent that stopped while a `3-data` script ran).
    static func clearLeftovers(in folder: URL) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names { try? FileManager.default.removeItem(at: folder.appendingPathComponent(name)) }
    }
}
