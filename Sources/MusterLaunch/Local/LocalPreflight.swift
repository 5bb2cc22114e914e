import Foundation
import MusterCore

/// What the local launcher can tell is wrong with a document before anything starts: a missing image folder, a
/// data value whose image has no `3-data/` folder, an agent that is not there. Each problem says where it looked,
/// so that `muster up` and `muster plan` can refuse at once instead of failing every node a moment later.
public struct LocalPreflight: Sendable {
    /// One problem.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The workspace it concerns, if one.
        public var workspace: String?
        /// What is wrong and where it looked.
        public var message: String

        public var description: String { workspace.map { "workspace '\($0)': \(message)" } ?? message }
    }

    /// The image folder found for each image name the document uses.
    public var imageFolders: [String: String] = [:]
    /// Everything wrong; empty when the launch can go ahead.
    public var problems: [Problem] = []

    /// Checks `workspaces` against the image folders (and, when given, the agent executable).
    public init(workspaces: [WorkspaceSpec], images: ImageFolders, agentExecutable: String? = nil) {
        for workspace in workspaces {
            let folder: String
            if let known = imageFolders[workspace.image] {
                folder = known
            } else {
                switch images.folder(for: workspace.image) {
                case .success(let found):
                    folder = found
                    imageFolders[workspace.image] = found
                case .failure(let error):
                    problems.append(Problem(workspace: workspace.name, message: error.description))
                    continue
                }
            }
            let dataFolder = ((folder as NSString).appendingPathComponent("ctx-scripts") as NSString).appendingPathComponent("3-data")
            var isDirectory: ObjCBool = false
            if !workspace.requires.data.isEmpty
                && !(FileManager.default.fileExists(atPath: dataFolder, isDirectory: &isDirectory) && isDirectory.boolValue)
            {
                let names = workspace.requires.data.map { "'\($0.name)'" }.joined(separator: ", ")
                problems.append(
                    Problem(
                        workspace: workspace.name,
                        message: "it requires data \(names), but its image has no \(dataFolder)/ for the scripts that take them"
                    )
                )
            }
        }
        if let agentExecutable, !FileManager.default.isExecutableFile(atPath: agentExecutable) {
            problems.append(Problem(workspace: nil, message: "no muster-agent executable at \(agentExecutable) (build it, or give one with --agent)"))
        }
    }
}
