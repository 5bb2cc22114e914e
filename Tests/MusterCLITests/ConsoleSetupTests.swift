import Foundation
import MusterConsole
import Testing

@testable import muster

/// What `muster console` and `muster up` take from the user's config file, and what overrides it.
@Suite("Console setup from the config file")
struct ConsoleSetupTests {
    /// A config home holding `muster/config.yaml` with `text`.
    static func configHome(_ text: String) throws -> String {
        let home = workFolder("config-home")
        try FileManager.default.createDirectory(atPath: home + "/muster", withIntermediateDirectories: true)
        try text.write(toFile: home + "/muster/config.yaml", atomically: true, encoding: .utf8)
        return home
    }

    static func setup(theme: String? = nil, environment: [String: String]) -> ConsoleSetup {
        ConsoleSetup(
            flagTheme: theme,
            readOnly: false,
            quitStopsBroker: false,
            state: workFolder("state"),
            broker: "http://127.0.0.1:1",
            environment: environment
        )
    }

    static let config = """
        theme: solarized
        refresh: 2
        shell:
          local: bash --norc -i
          remote: ssh -l admin $MUSTER_IP
        hotkeys:
          - key: P
            name: ping
            command: ping -c 3 $MUSTER_IP
        """

    @Test func `the config file gives the theme, the refresh, the shell commands and the hotkeys`() throws {
        let home = try Self.configHome(Self.config)
        let setup = Self.setup(environment: ["XDG_CONFIG_HOME": home, "HOME": "/nonexistent"])
        #expect(setup.notices.isEmpty, "\(setup.notices)")
        #expect(setup.options.themeName == "solarized")
        #expect(setup.refresh == 2)
        #expect(setup.configuration(context: nil).refresh == 2)
        #expect(setup.commands.localShell == "bash --norc -i")
        #expect(setup.commands.remoteShell == "ssh -l admin $MUSTER_IP")
        #expect(setup.options.userCommands.map(\.name) == ["ping"])
        #expect(setup.commands.user.map(\.command) == ["ping -c 3 $MUSTER_IP"])
    }

    @Test func `--theme wins over MUSTER_THEME, which wins over the config file`() throws {
        let home = try Self.configHome(Self.config)
        #expect(Self.setup(environment: ["XDG_CONFIG_HOME": home, "MUSTER_THEME": "light"]).options.themeName == "light")
        #expect(
            Self.setup(theme: "high-contrast", environment: ["XDG_CONFIG_HOME": home, "MUSTER_THEME": "light"]).options.themeName == "high-contrast"
        )
    }

    @Test func `without a config file the defaults hold: dark, one second, the operator's shell, no hotkeys`() {
        let setup = Self.setup(environment: ["XDG_CONFIG_HOME": workFolder("empty-config"), "HOME": "/nonexistent"])
        #expect(setup.notices.isEmpty)
        #expect(setup.options.themeName == "dark")
        #expect(setup.refresh == nil)
        #expect(setup.commands.localShell == nil && setup.commands.remoteShell == nil)
        #expect(setup.options.userCommands.isEmpty)
    }

    @Test func `a broken config file is a notice naming its line, and the defaults are used`() throws {
        let home = try Self.configHome("theme: light\nrefesh: 2\n")
        let setup = Self.setup(environment: ["XDG_CONFIG_HOME": home])
        #expect(
            setup.notices == [
                "\(home)/muster/config.yaml:2:1: error: unknown key 'refesh' (known: theme, refresh, shell, hotkeys); the defaults are used"
            ]
        )
        #expect(setup.options.themeName == "dark")
    }
}
