import Yams

/// Reads a theme file: YAML in the spirit of k9s skins.
///
/// ```yaml
/// name: dark
/// description: Light text on the terminal's own dark background.
/// foreground: default        # the screen; "default" keeps the terminal's own colour
/// background: default
/// preview: { foreground: "#d0d0d0", background: "#1c1c1c" }   # what "default" looks like in SVG snapshots
/// styles:
///   dim: "#808080"                        # a colour alone is the foreground
///   selection: { fg: black, bg: "#5fafff", bold: true }
/// states:
///   waiting: { fg: yellow }
/// ```
///
/// Colours are names (`red`, `bright-blue`, `gray`, …), `#rrggbb`, `#rgb`, 256-colour indices or `default`.
/// Unknown keys are errors (a typo must not pass silently); styles left out look like `text`.
public enum ThemeParser {
    /// The keys allowed under `styles`.
    public static let styleKeys: [String] = StyleRole.allCases.filter { !$0.isNodeState }.map(\.themeKey)
    /// The keys allowed under `states`.
    public static let stateKeys: [String] = StyleRole.allCases.filter(\.isNodeState).map(\.themeKey)

    /// Parses theme YAML. `file` names the file in error messages; `name` is used when the file has none.
    public static func parse(_ yaml: String, file: String, name: String) throws(ThemeError) -> Theme {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else { throw ThemeError(file: file, message: "the file is empty") }
            root = node
        } catch let error as ThemeError {
            throw error
        } catch let error as YamlError {
            throw describe(error, file: file)
        } catch {
            throw ThemeError(file: file, message: "not readable as YAML: \(error)")
        }
        guard let mapping = root.mapping else {
            throw ThemeError(file: file, line: root.mark?.line, message: "a theme must be a mapping of keys to values")
        }
        var reader = Reader(file: file)
        return try reader.theme(from: mapping, name: name)
    }

    private static func describe(_ error: YamlError, file: String) -> ThemeError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ThemeError(file: file, line: mark.line, column: mark.column, message: "not valid YAML: \(problem)")
        default:
            return ThemeError(file: file, message: "not valid YAML: \(error)")
        }
    }

    private struct Reader {
        let file: String

        func fail(_ node: Node, _ message: String) -> ThemeError {
            ThemeError(file: file, line: node.mark?.line, column: node.mark?.column, message: message)
        }

        mutating func theme(from mapping: Node.Mapping, name fallbackName: String) throws(ThemeError) -> Theme {
            var name = fallbackName
            var summary = ""
            var foreground = ThemeColor.terminalDefault
            var background = ThemeColor.terminalDefault
            var previewForeground = ThemeColor.rgb(0xD0, 0xD0, 0xD0)
            var previewBackground = ThemeColor.rgb(0x1C, 0x1C, 0x1C)
            var styles: [StyleRole: TextStyle] = [:]
            for (keyNode, value) in mapping {
                let key = keyNode.string ?? ""
                switch key {
                case "name": name = try string(value, key)
                case "description": summary = try string(value, key)
                case "foreground": foreground = try color(value, key)
                case "background": background = try color(value, key)
                case "preview":
                    let entries = try pairs(value, key)
                    for (entryKey, entry) in entries {
                        switch entryKey.string ?? "" {
                        case "foreground": previewForeground = try color(entry, "preview.foreground")
                        case "background": previewBackground = try color(entry, "preview.background")
                        default: throw fail(entryKey, "unknown key 'preview.\(entryKey.string ?? "")' (known: foreground, background)")
                        }
                    }
                case "styles", "states":
                    let allowed = key == "styles" ? ThemeParser.styleKeys : ThemeParser.stateKeys
                    for (roleKey, styleNode) in try pairs(value, key) {
                        let roleName = roleKey.string ?? ""
                        guard allowed.contains(roleName), let role = StyleRole.allCases.first(where: { $0.themeKey == roleName }) else {
                            throw fail(
                                roleKey,
                                "unknown \(key == "styles" ? "style" : "state") '\(roleName)' (known: \(allowed.joined(separator: ", ")))"
                            )
                        }
                        styles[role] = try style(styleNode, "\(key).\(roleName)")
                    }
                default:
                    throw fail(keyNode, "unknown key '\(key)' (known: name, description, foreground, background, preview, styles, states)")
                }
            }
            // The preview colours stand in only for `default`; a concrete screen colour is its own preview.
            if foreground != .terminalDefault { previewForeground = foreground }
            if background != .terminalDefault { previewBackground = background }
            return Theme(
                name: name,
                summary: summary,
                foreground: foreground,
                background: background,
                previewForeground: previewForeground,
                previewBackground: previewBackground,
                styles: styles
            )
        }

        func string(_ node: Node, _ key: String) throws(ThemeError) -> String {
            guard let scalar = node.scalar else { throw fail(node, "'\(key)' must be text") }
            return scalar.string
        }

        func pairs(_ node: Node, _ key: String) throws(ThemeError) -> [(Node, Node)] {
            guard let mapping = node.mapping else { throw fail(node, "'\(key)' must be a mapping") }
            return mapping.map { ($0.key, $0.value) }
        }

        func color(_ node: Node, _ key: String) throws(ThemeError) -> ThemeColor {
            guard let scalar = node.scalar else { throw fail(node, "'\(key)' must be a colour") }
            guard let color = ThemeColor(parsing: scalar.string) else {
                throw fail(
                    node,
                    "'\(key)': '\(scalar.string)' is not a colour (use a name like red or bright-blue, #rrggbb, 0-255 or default)"
                )
            }
            return color
        }

        func style(_ node: Node, _ key: String) throws(ThemeError) -> TextStyle {
            if node.scalar != nil { return TextStyle(foreground: try color(node, key)) }
            var style = TextStyle()
            for (attributeKey, value) in try pairs(node, key) {
                let attribute = attributeKey.string ?? ""
                switch attribute {
                case "fg": style.foreground = try color(value, "\(key).fg")
                case "bg": style.background = try color(value, "\(key).bg")
                case "bold": style.bold = try flag(value, "\(key).bold")
                case "underline": style.underline = try flag(value, "\(key).underline")
                case "reverse": style.reverse = try flag(value, "\(key).reverse")
                case "dim": style.dim = try flag(value, "\(key).dim")
                default:
                    throw fail(attributeKey, "unknown attribute '\(key).\(attribute)' (known: fg, bg, bold, underline, reverse, dim)")
                }
            }
            return style
        }

        func flag(_ node: Node, _ key: String) throws(ThemeError) -> Bool {
            guard let value = node.bool else { throw fail(node, "'\(key)' must be true or false") }
            return value
        }
    }
}

extension StyleRole {
    /// Whether the role colours a node state (theme files list these under `states`).
    public var isNodeState: Bool { rawValue >= StyleRole.pending.rawValue && rawValue <= StyleRole.timedOut.rawValue }
}
