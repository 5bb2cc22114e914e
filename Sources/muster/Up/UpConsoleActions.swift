import Foundation
import Logging
import MusterClient
import MusterConsole
import MusterCore
import MusterLaunch

/// The console's actions inside `muster up`, where the launcher runs in this process: `:launch FILE` checks the
/// new document the way `muster up` checked the first one. For local nodes it finds the document's images next
/// to that document (not next to the first one): the context is created without launching, the launcher is told
/// its image folders, and only then are its nodes launched. For EC2 it resolves every workspace's image first.
/// Everything else is what `ClientConsoleActions` does.
struct UpConsoleActions: ConsoleActions {
    let client: OperatorClient
    let launcher: any NodeLauncher
    /// For `--broker`: this process launches the new context's nodes itself (the broker has no launcher).
    let external: Bool
    /// The addresses agents reach the broker at.
    let brokerURLs: [String]
    let logger: Logger

    /// Why a document cannot be launched here: one line, naming the file.
    struct LaunchProblem: Error, CustomStringConvertible {
        var description: String
    }

    func launch(documentAt path: String) async throws -> ContextID {
        let data = try ClusterFile.read(path)
        let folder = URL(fileURLWithPath: LocalPath.absolute(path)).deletingLastPathComponent().path
        let images = ImageFolders(searchPath: [(folder as NSString).appendingPathComponent("images")])
        let check = ClusterDocumentParser.parse(Array(data))
        guard let document = check.document else {
            let first = check.diagnostics.first { $0.severity == .error }
            throw LaunchProblem(
                description:
                    "\(path) is not a valid cluster document: \(first.map { "line \($0.location.line): \($0.message)" } ?? "see muster validate")"
            )
        }
        let local = launcher as? LocalLauncher
        if local != nil {
            let preflight = LocalPreflight(workspaces: document.workspaces, images: images)
            if let problem = preflight.problems.first {
                let more = preflight.problems.count > 1 ? " (and \(preflight.problems.count - 1) more; muster plan \(path) lists them)" : ""
                throw LaunchProblem(description: "nothing launched from \(path): \(problem)\(more)")
            }
        } else if let ec2 = launcher as? EC2Launcher {
            do {
                try await ec2.preflight(workspaces: document.workspaces)
            } catch {
                throw LaunchProblem(description: "nothing launched from \(path): \(error.message)")
            }
        }
        let created = try await client.createContext(document: data, name: ClusterFile.contextName(for: path), launch: external)
        let id = created.context.id
        await local?.useImages(images, for: id)
        if external {
            let launching = ExternalLaunching(client: client, launcher: launcher, brokerURLs: brokerURLs, logger: logger)
            Task { await launching.run(created) }
        } else {
            _ = try await client.launch(id)
        }
        logger.info("launched a context from the console", metadata: ["context": "\(id)", "images": "\(images.searchPath)"])
        return id
    }

    func addNodes(context: ContextID, workspace: String, count: Int) async throws {
        _ = try await client.addNodes(count, to: workspace, in: context, launch: true)
    }

    func retry(context: ContextID, node: String) async throws {
        _ = try await client.retry(node, in: context)
    }

    func kill(context: ContextID, node: String) async throws {
        _ = try await client.kill(node, in: context)
    }

    func removeNode(context: ContextID, node: String) async throws {
        _ = try await client.removeNode(node, in: context)
    }
}
