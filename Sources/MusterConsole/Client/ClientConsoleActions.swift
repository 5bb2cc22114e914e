import Foundation
import MusterClient
import MusterCore

/// The console's operator actions over `MusterClient`.
public struct ClientConsoleActions: ConsoleActions {
    private let client: OperatorClient

    /// Creates the actions over an operator client.
    public init(client: OperatorClient) {
        self.client = client
    }

    public func launch(documentAt path: String) async throws -> ContextID {
        let data = try ClusterFile.read(path)
        return try await client.createContext(document: data, name: ClusterFile.contextName(for: path), launch: true).context.id
    }

    public func addNodes(context: ContextID, workspace: String, count: Int) async throws {
        _ = try await client.addNodes(count, to: workspace, in: context, launch: true)
    }

    public func retry(context: ContextID, node: String) async throws {
        _ = try await client.retry(node, in: context)
    }

    public func kill(context: ContextID, node: String) async throws {
        _ = try await client.kill(node, in: context)
    }

    public func removeNode(context: ContextID, node: String) async throws {
        _ = try await client.removeNode(node, in: context)
    }
}

/// Reading a cluster document named on the console's command line, with one-line errors that name the path.
public enum ClusterFile {
    /// Why a cluster file could not be read: one line, naming the path.
    public struct ReadError: Error, Sendable, CustomStringConvertible {
        /// The path as typed.
        public var path: String
        /// What is wrong.
        public var reason: String

        public var description: String { "cannot read \(path): \(reason)" }
    }

    /// The file's bytes; a missing, unreadable or folder path throws a ``ReadError``, never Foundation's text.
    public static func read(_ path: String) throws(ReadError) -> Data {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ReadError(path: path, reason: "no such file")
        }
        guard !isFolder.boolValue else { throw ReadError(path: path, reason: "it is a folder, not a cluster document") }
        guard FileManager.default.isReadableFile(atPath: path), let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(path: path, reason: "permission denied")
        }
        return data
    }

    /// The context name for a document: its file name without the extension (`cluster.xml` → the folder name).
    public static func contextName(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let base = url.deletingPathExtension().lastPathComponent
        if base == "cluster" {
            let folder = url.deletingLastPathComponent().lastPathComponent
            if !folder.isEmpty && folder != "/" && folder != "." { return folder }
        }
        return base
    }
}
