import Foundation
import MusterCore

extension LocalLauncher {
    /// Uses these image folders for one context's nodes instead of the launcher's own: a document launched later
    /// (the console's `:launch FILE`) finds its images next to itself, not next to the first document. Relative
    /// folders are taken from the current directory now. Call it before the context's nodes are launched.
    public func useImages(_ images: ImageFolders, for context: ContextID) {
        let here = FileManager.default.currentDirectoryPath
        contextImages[context] = ImageFolders(
            searchPath: images.searchPath.map { path in
                ((path.hasPrefix("/") ? path : (here as NSString).appendingPathComponent(path)) as NSString).standardizingPath
            }
        )
    }

    /// The image folders a context's nodes use.
    public func images(for context: ContextID) -> ImageFolders {
        contextImages[context] ?? configuration.images
    }
}
