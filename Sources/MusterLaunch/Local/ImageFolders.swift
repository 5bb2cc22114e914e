import Foundation
import MusterCore

/// Finds a workspace's image on the local launcher: `<image>NAME</image>` names a folder `images/NAME/` next to
/// the cluster file (or in the folders given with `--images`).
public struct ImageFolders: Sendable {
    /// Folders that hold image folders, searched in order.
    public var searchPath: [String]

    /// Creates a resolver over folders that hold images.
    public init(searchPath: [String]) {
        self.searchPath = searchPath
    }

    /// The names an image may have as a folder: as written, then without its extensions
    /// (`rabbitMQ.gz` → `rabbitMQ`, `base.tar.gz` → `base.tar`, `base`). Only ``MusterCore/SafeName``s are
    /// candidates, so no candidate is `.`, `..` or holds a `/`: a folder is always inside its search folder.
    public static func candidateNames(for image: String) -> [String] {
        var names = [image]
        var name = image
        while let dot = name.lastIndex(of: "."), dot != name.startIndex {
            name = String(name[..<dot])
            names.append(name)
        }
        return names.filter { SafeName.isValid($0) }
    }

    /// The folder for an image, or a message saying everywhere it looked.
    public func folder(for image: String) -> Result<String, ImageNotFound> {
        if let problem = SafeName.problem(in: image) {
            return .failure(ImageNotFound(image: image, looked: [], reason: problem.message(for: "the local launcher's image name")))
        }
        var looked: [String] = []
        for base in searchPath {
            for name in Self.candidateNames(for: image) {
                let folder = (base as NSString).appendingPathComponent(name)
                looked.append(folder)
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue {
                    return .success(folder)
                }
            }
        }
        return .failure(ImageNotFound(image: image, looked: looked, reason: nil))
    }

    /// Why an image folder was not found.
    public struct ImageNotFound: Error, Sendable, CustomStringConvertible {
        /// The image name.
        public var image: String
        /// The folders tried.
        public var looked: [String]
        /// A reason other than "not there", if any.
        public var reason: String?

        public var description: String {
            if let reason { return "image '\(image)': \(reason)" }
            return "no image folder for '\(image)'; looked for \(looked.joined(separator: ", ")) (create one with a ctx-scripts/ folder)"
        }
    }
}
