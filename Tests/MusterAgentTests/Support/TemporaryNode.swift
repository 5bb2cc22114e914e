import Foundation
import MusterAgent

/// A node root in a fresh temporary folder, with a `ctx-scripts` folder to put scripts in. Removed when the
/// body returns.
struct TemporaryNode {
    let root: URL

    var layout: NodeLayout { NodeLayout(root: root) }
    var scripts: URL { layout.scripts }

    static func with<Result>(_ body: (TemporaryNode) async throws -> Result) async throws -> Result {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("muster-agent-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("ctx-scripts"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        return try await body(TemporaryNode(root: root))
    }

    /// Writes a script under ctx-scripts (`path` like `1-ipandhost/rabbitmq-head`), executable unless told.
    @discardableResult
    func script(_ path: String, _ body: String, executable: Bool = true) throws -> URL {
        let url = scripts.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(body.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: url.path)
        return url
    }

    /// Creates an empty folder under ctx-scripts.
    func folder(_ path: String) throws {
        try FileManager.default.createDirectory(at: scripts.appendingPathComponent(path), withIntermediateDirectories: true)
    }

    /// A file under the root, as text (nil if missing).
    func text(_ path: String) -> String? {
        try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path) }
}
