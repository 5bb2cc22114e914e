import Foundation

/// Where this `muster` is installed, found from the running executable itself (`/proc/self/exe`), never from
/// `argv[0]` or the working directory: started from `PATH`, by a relative path or through a symbolic link, it
/// finds the same `muster-agent` and the same bundled themes.
enum Installation {
    /// The folder of the running executable, symbolic links resolved.
    static let executableFolder: URL = {
        #if os(Linux)
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        #else
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        #endif
        return executable.deletingLastPathComponent()
    }()

    /// A program installed next to this one (`swift build` puts `muster` and `muster-agent` side by side), else
    /// the first on `PATH`, else the path next to this one (which then names what is missing).
    static func sibling(_ name: String) -> String {
        let sibling = executableFolder.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        if let path = ProcessInfo.processInfo.environment["PATH"] {
            for folder in path.split(separator: ":") {
                let candidate = (String(folder) as NSString).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return sibling
    }

    /// The bundled themes: `share/muster/Themes` next to an installed `bin/muster`, or the `Themes/` folder of the
    /// checkout this `muster` was built in (`.build/<config>/muster` is a few folders below it).
    static func themesFolder() -> String? {
        let installed = executableFolder.deletingLastPathComponent().appendingPathComponent("share/muster/Themes").path
        if FileManager.default.fileExists(atPath: installed) { return installed }
        var folder = executableFolder
        for _ in 0..<6 {
            let candidate = folder.appendingPathComponent("Themes").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        return nil
    }
}
