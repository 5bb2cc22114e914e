import Foundation
import Testing

@testable import MusterConsole

@Suite("Themes")
struct ThemeTests {
    static let repositoryThemes = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Themes", isDirectory: true)

    @Test("every theme in Themes/ loads without a problem")
    func everyThemeLoads() throws {
        let catalog = ThemeCatalog(folders: [Self.repositoryThemes])
        let names = catalog.names()
        #expect(Set(["dark", "light", "high-contrast", "solarized"]).isSubset(of: Set(names)))
        for name in names {
            let result = catalog.load(name)
            #expect(result.problem == nil, "\(name): \(String(describing: result.problem))")
            #expect(result.theme.name == name)
        }
    }

    @Test("dark.yaml is the built-in default")
    func darkFileEqualsBuiltIn() {
        let dark = ThemeCatalog(folders: [Self.repositoryThemes]).load("dark").theme
        for role in StyleRole.allCases { #expect(dark.style(role) == Theme.builtInDark.style(role), "\(role)") }
        #expect(dark.previewBackground == Theme.builtInDark.previewBackground)
    }

    @Test("a malformed theme names the file, the line and the problem, and falls back to the default")
    func malformedThemeFallsBack() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-themes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "name: broken\nstyles:\n  text: default\n  selction: { fg: red }\n".write(
            to: folder.appendingPathComponent("broken.yaml"),
            atomically: true,
            encoding: .utf8
        )
        try "name: bad-colour\nstates:\n  ok: { fg: purpleish }\n".write(
            to: folder.appendingPathComponent("bad-colour.yaml"),
            atomically: true,
            encoding: .utf8
        )
        try "styles: [unclosed\n".write(to: folder.appendingPathComponent("not-yaml.yaml"), atomically: true, encoding: .utf8)
        let catalog = ThemeCatalog(folders: [folder])

        let broken = catalog.load("broken")
        #expect(broken.theme == Theme.builtInDark)
        let typo = try #require(broken.problem)
        #expect(typo.file.hasSuffix("broken.yaml"))
        #expect(typo.line == 4)
        #expect(typo.message.contains("unknown style 'selction'"))

        let colour = try #require(catalog.load("bad-colour").problem)
        #expect(colour.line == 3)
        #expect(colour.description.contains("'purpleish' is not a colour"))

        let syntax = try #require(catalog.load("not-yaml").problem)
        #expect(syntax.message.hasPrefix("not valid YAML"))
        #expect(syntax.line != nil)

        let missing = try #require(catalog.load("nonexistent").problem)
        #expect(missing.message.contains("no theme named 'nonexistent'"))
    }

    @Test("a user folder overrides the repository's theme of the same name")
    func userFolderOverrides() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-user-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "name: light\nstyles:\n  text: red\n".write(to: folder.appendingPathComponent("light.yaml"), atomically: true, encoding: .utf8)
        let theme = ThemeCatalog(folders: [Self.repositoryThemes, folder]).load("light").theme
        #expect(theme.style(.text).foreground == .ansi(1))
    }

    @Test("the user folder comes from XDG_CONFIG_HOME, else HOME/.config")
    func standardFolders() {
        let xdg = ThemeCatalog.standardFolders(repositoryThemes: nil, environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"])
        #expect(xdg.map(\.path) == ["/x/muster/themes"])
        let home = ThemeCatalog.standardFolders(repositoryThemes: URL(fileURLWithPath: "/repo/Themes"), environment: ["HOME": "/h"])
        #expect(home.map(\.path) == ["/repo/Themes", "/h/.config/muster/themes"])
    }

    @Test("--theme beats MUSTER_THEME beats the default, and NO_COLOR turns colours off")
    func themeChoice() {
        #expect(ThemeChoice.name(flag: "light", environment: ["MUSTER_THEME": "solarized"]) == "light")
        #expect(ThemeChoice.name(flag: nil, environment: ["MUSTER_THEME": "solarized"]) == "solarized")
        #expect(ThemeChoice.name(flag: nil, environment: [:]) == "dark")
        #expect(ThemeChoice.colorsDisabled(environment: ["NO_COLOR": "1"]))
        #expect(!ThemeChoice.colorsDisabled(environment: ["NO_COLOR": ""]))
    }

    @Test("monochrome keeps only attributes: selection reversed, no colours")
    func monochromeHasNoColours() {
        for role in StyleRole.allCases {
            let style = Theme.monochrome.style(role)
            #expect(style.foreground == .terminalDefault && style.background == .terminalDefault)
        }
        #expect(Theme.monochrome.style(.selection).reverse)
        #expect(Theme.builtInDark.withoutColors.style(.failed).bold)
    }

    @Test("colours parse from names, #rrggbb, #rgb and indices, and map to the nearest palette entry")
    func colours() {
        #expect(ThemeColor(parsing: "bright-blue") == .ansi(12))
        #expect(ThemeColor(parsing: "#ff8700") == .rgb(255, 135, 0))
        #expect(ThemeColor(parsing: "#f80") == .rgb(255, 136, 0))
        #expect(ThemeColor(parsing: "244") == .indexed(244))
        #expect(ThemeColor(parsing: "purpleish") == nil)
        #expect(ThemeColor.rgb(255, 135, 0).paletteIndex(colors: 256) == 208)
        #expect(ThemeColor.rgb(0xFF, 0x5F, 0x5F).paletteIndex(colors: 8) == 1)
        #expect(ThemeColor.ansi(12).paletteIndex(colors: 8) == 4)
        #expect(ThemeColor.terminalDefault.paletteIndex(colors: 256) == -1)
    }
}
