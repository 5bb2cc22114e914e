import Foundation

/// Where a bench sends a child `muster`'s standard error: a file in the bench's temporary folder, so that a failed
/// run can say why (no `muster-agent` next to `muster`, say) without a pipe that could fill and stall the child.
struct ChildErrorLog {
    /// The file.
    let path: String
    /// The child's standard error, writing to the file.
    let handle: FileHandle

    /// A log named `name` in `folder`.
    init(folder: String, name: String) throws {
        path = (folder as NSString).appendingPathComponent("\(name).stderr")
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        self.handle = handle
    }

    /// What the child wrote last (at most `limit` characters), introduced for a failure message; empty if nothing.
    func quoted(limit: Int = 2_000) -> String {
        let text = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "" : "\nits standard error:\n\(text.suffix(limit))"
    }
}
