import Foundation
import Yams

/// The user's console settings, `$XDG_CONFIG_HOME/muster/config.yaml` (else `~/.config/muster/config.yaml`):
/// defaults, the shell command, and hotkeys that run commands for a node, as k9s plugins do.
///
/// ```yaml
/// theme: light                 # the theme when --theme and MUSTER_THEME are not given
/// refresh: 1                   # seconds between redraws of an idle screen (its clocks)
/// shell:
///   local: bash -i             # in the node's root, with its environment (default: $SHELL -i)
///   remote: ssh -o UserKnownHostsFile=$MUSTER_KNOWN_HOSTS -o StrictHostKeyChecking=yes admin@$MUSTER_IP
/// hotkeys:
///   - key: P                   # a character, ctrl-X or F1…F12
///     name: ping
///     description: ping the node three times
///     command: ping -c 3 $MUSTER_IP
///     wait: true               # wait for Enter before the console comes back
/// ```
///
/// Commands run with `/bin/sh -c` and get `$MUSTER_NODE`, `$MUSTER_IP`, `$MUSTER_HOSTNAME`, `$MUSTER_CONTEXT`,
/// `$MUSTER_WORKSPACE`, `$MUSTER_STATE`, `$MUSTER_BROKER`, `$MUSTER_KNOWN_HOSTS` and, for a node on this machine,
/// `$MUSTER_ROOT`. Unknown keys are errors, with their line, so that a typo does not pass silently.
public struct ConsoleConfig: Sendable, Hashable {
    /// The default theme.
    public var theme: String?
    /// Seconds between redraws of an idle screen.
    public var refresh: Double?
    /// The shell command for local nodes.
    public var localShell: String?
    /// The shell command for remote nodes.
    public var remoteShell: String?
    /// The user's commands.
    public var hotkeys: [UserCommand] = []

    /// Creates an empty configuration.
    public init() {}

    /// The standard file: `$XDG_CONFIG_HOME/muster/config.yaml`, else `$HOME/.config/muster/config.yaml`.
    public static func standardFile(environment: [String: String]) -> String? {
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty { return config + "/muster/config.yaml" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.config/muster/config.yaml" }
        return nil
    }

    /// Reads the file; a missing file is the empty configuration.
    public static func load(from path: String) throws(ThemeError) -> ConsoleConfig {
        guard FileManager.default.fileExists(atPath: path) else { return ConsoleConfig() }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ThemeError(file: path, message: "cannot read the file")
        }
        return try parse(text, file: path)
    }

    /// Parses the configuration's YAML.
    public static func parse(_ yaml: String, file: String) throws(ThemeError) -> ConsoleConfig {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else { return ConsoleConfig() }
            root = node
        } catch let error as YamlError {
            if case .scanner(_, let problem, let mark, _) = error {
                throw ThemeError(file: file, line: mark.line, column: mark.column, message: problem)
            }
            if case .parser(_, let problem, let mark, _) = error {
                throw ThemeError(file: file, line: mark.line, column: mark.column, message: problem)
            }
            throw ThemeError(file: file, message: "not valid YAML: \(error)")
        } catch {
            throw ThemeError(file: file, message: "not valid YAML: \(error)")
        }
        func fail(_ node: Node, _ message: String) -> ThemeError {
            ThemeError(file: file, line: node.mark?.line, column: node.mark?.column, message: message)
        }
        guard let mapping = root.mapping else { throw fail(root, "the configuration must be a mapping of keys to values") }
        var config = ConsoleConfig()
        for (keyNode, value) in mapping {
            switch keyNode.string ?? "" {
            case "theme":
                guard let name = value.string, !name.isEmpty else { throw fail(value, "theme must be a theme's name") }
                config.theme = name
            case "refresh":
                guard let seconds = value.float, seconds >= 0.1, seconds <= 60 else {
                    throw fail(value, "refresh must be a number of seconds from 0.1 to 60")
                }
                config.refresh = seconds
            case "shell":
                guard let shell = value.mapping else { throw fail(value, "shell must be a mapping with local and remote") }
                for (shellKey, command) in shell {
                    guard let text = command.string, !text.isEmpty else { throw fail(command, "a shell command must be a non-empty string") }
                    switch shellKey.string ?? "" {
                    case "local": config.localShell = text
                    case "remote": config.remoteShell = text
                    default: throw fail(shellKey, "unknown key 'shell.\(shellKey.string ?? "")' (known: local, remote)")
                    }
                }
            case "hotkeys":
                guard let list = value.sequence else { throw fail(value, "hotkeys must be a list") }
                for item in list {
                    config.hotkeys.append(try hotkey(item, fail: fail))
                }
            default:
                throw fail(keyNode, "unknown key '\(keyNode.string ?? "")' (known: theme, refresh, shell, hotkeys)")
            }
        }
        var seen: Set<Key> = []
        for hotkey in config.hotkeys {
            guard seen.insert(hotkey.key).inserted else {
                throw ThemeError(file: file, message: "the key \(hotkey.key) is bound to more than one hotkey")
            }
        }
        return config
    }

    private static func hotkey(_ item: Node, fail: (Node, String) -> ThemeError) throws(ThemeError) -> UserCommand {
        guard let fields = item.mapping else { throw fail(item, "a hotkey must be a mapping with key, name, command") }
        var key: Key?
        var name: String?
        var summary = ""
        var command: String?
        var wait = false
        for (fieldKey, value) in fields {
            switch fieldKey.string ?? "" {
            case "key":
                guard let text = value.string, let parsed = parseKey(text) else {
                    throw fail(value, "a hotkey's key must be one character, ctrl-X or F1…F12")
                }
                if let taken = reservedKey(parsed) { throw fail(value, "the key \(parsed) is the console's own (\(taken)); choose another") }
                key = parsed
            case "name": name = value.string
            case "description": summary = value.string ?? ""
            case "command": command = value.string
            case "wait":
                guard let flag = value.bool else { throw fail(value, "wait must be true or false") }
                wait = flag
            default:
                throw fail(fieldKey, "unknown key '\(fieldKey.string ?? "")' in a hotkey (known: key, name, description, command, wait)")
            }
        }
        guard let key else { throw fail(item, "a hotkey needs a key") }
        guard let command, !command.isEmpty else { throw fail(item, "a hotkey needs a command") }
        return UserCommand(key: key, name: name ?? command, summary: summary.isEmpty ? command : summary, command: command, wait: wait)
    }

    /// `P`, `ctrl-p`, `F5`.
    static func parseKey(_ text: String) -> Key? {
        let lower = text.lowercased()
        if lower.hasPrefix("ctrl-"), lower.count == 6, let character = lower.last, character.isLetter { return .control(character) }
        if lower.hasPrefix("f"), let number = Int(lower.dropFirst()), (1...12).contains(number) { return .function(number) }
        if text.count == 1, let character = text.first, !character.isWhitespace { return .character(character) }
        return nil
    }

    /// What a key already does in a view that shows nodes, if anything.
    static func reservedKey(_ key: Key) -> String? {
        for view in [ConsoleView.tree, .detail, .waits, .timeline] {
            if let binding = KeyMap.action(for: key, in: view) { return binding.summary }
        }
        return nil
    }
}
