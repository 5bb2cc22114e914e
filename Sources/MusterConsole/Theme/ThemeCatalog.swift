import Foundation

/// The theme files the console can use: `*.yaml` in a list of folders, later folders overriding earlier ones
/// (the repository's `Themes/`, then the user's `$XDG_CONFIG_HOME/muster/themes/`).
public struct ThemeCatalog: Sendable {
    /// The folders searched, lowest precedence first.
    public let folders: [URL]

    /// Creates a catalog over folders (missing folders are skipped).
    public init(folders: [URL]) {
        self.folders = folders
    }

    /// The standard folders: the repository's themes folder (when known), then the user's, from the environment
    /// passed in (`XDG_CONFIG_HOME`, else `HOME/.config`).
    public static func standardFolders(repositoryThemes: URL?, environment: [String: String]) -> [URL] {
        var folders: [URL] = []
        if let repositoryThemes { folders.append(repositoryThemes) }
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty {
            folders.append(URL(fileURLWithPath: config).appendingPathComponent("muster/themes", isDirectory: true))
        } else if let home = environment["HOME"], !home.isEmpty {
            folders.append(URL(fileURLWithPath: home).appendingPathComponent(".config/muster/themes", isDirectory: true))
        }
        return folders
    }

    /// The theme names available (file names without `.yaml`), sorted, always including the built-in default.
    public func names() -> [String] {
        Set(files().keys).union([Theme.defaultName]).sorted()
    }

    /// The file of each theme name; a later folder's file wins.
    public func files() -> [String: URL] {
        var files: [String: URL] = [:]
        for folder in folders {
            let entries = (try? FileManager.default.contentsOfDirectory(at: folder.resolvingSymlinksInPath(), includingPropertiesForKeys: nil)) ?? []
            for entry in entries where entry.pathExtension == "yaml" || entry.pathExtension == "yml" {
                files[entry.deletingPathExtension().lastPathComponent] = entry
            }
        }
        return files
    }

    /// Loads a theme by name. A missing or bad file never stops the console: the result then holds the
    /// built-in default and the problem, for the status line and the log.
    public func load(_ name: String) -> ThemeLoadResult {
        guard let file = files()[name] else {
            if name == Theme.defaultName { return ThemeLoadResult(theme: .builtInDark, problem: nil) }
            let known = names().joined(separator: ", ")
            return ThemeLoadResult(
                theme: .builtInDark,
                problem: ThemeError(file: name, message: "no theme named '\(name)' (available: \(known)); using \(Theme.defaultName)")
            )
        }
        return Self.load(file: file, name: name)
    }

    /// Loads one theme file, falling back to the built-in default when it cannot be used.
    public static func load(file: URL, name: String? = nil) -> ThemeLoadResult {
        let themeName = name ?? file.deletingPathExtension().lastPathComponent
        do {
            let data = try Data(contentsOf: file)
            guard let text = String(data: data, encoding: .utf8) else {
                throw ThemeError(file: file.path, message: "the file is not UTF-8 text")
            }
            return ThemeLoadResult(theme: try ThemeParser.parse(text, file: file.path, name: themeName), problem: nil)
        } catch let error as ThemeError {
            return ThemeLoadResult(theme: .builtInDark, problem: error)
        } catch {
            return ThemeLoadResult(
                theme: .builtInDark,
                problem: ThemeError(file: file.path, message: "cannot read the file: \(error.localizedDescription)")
            )
        }
    }
}

/// A loaded theme, or the default with the reason the requested one could not be used.
public struct ThemeLoadResult: Sendable {
    /// The theme to use.
    public var theme: Theme
    /// Why the requested theme was not used, if it was not.
    public var problem: ThemeError?
}

/// Which theme to start with, from the command line and the environment passed in.
public enum ThemeChoice {
    /// `--theme` wins over `MUSTER_THEME`, which wins over the default.
    public static func name(flag: String?, environment: [String: String]) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let variable = environment["MUSTER_THEME"], !variable.isEmpty { return variable }
        return Theme.defaultName
    }

    /// Whether colours are off: `NO_COLOR` set to anything non-empty (https://no-color.org).
    public static func colorsDisabled(environment: [String: String]) -> Bool {
        !(environment["NO_COLOR"] ?? "").isEmpty
    }
}
