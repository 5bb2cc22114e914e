import Foundation
import Logging
import MusterCore
import Testing

@testable import MusterConsole

/// The user's config file (defaults, shell commands, hotkeys), hotkeys running with the node's variables, and
/// copying to the clipboard with OSC 52.
@Suite("Console config, hotkeys and the clipboard")
struct ConsoleConfigTests {
    static let example = """
        theme: light
        refresh: 0.5
        shell:
          local: bash -i
          remote: ssh -o UserKnownHostsFile=$MUSTER_KNOWN_HOSTS admin@$MUSTER_IP
        hotkeys:
          - key: P
            name: ping
            description: ping the node three times
            command: ping -c 3 $MUSTER_IP
            wait: true
          - key: ctrl-l
            name: logs
            command: muster logs $MUSTER_CONTEXT/$MUSTER_NODE
          - key: F5
            name: top
            command: ssh $MUSTER_IP top
        """

    @Test func `the example file sets the theme, the refresh, both shells and three hotkeys`() throws {
        let config = try ConsoleConfig.parse(Self.example, file: "config.yaml")
        #expect(config.theme == "light")
        #expect(config.refresh == 0.5)
        #expect(config.localShell == "bash -i")
        #expect(config.remoteShell == "ssh -o UserKnownHostsFile=$MUSTER_KNOWN_HOSTS admin@$MUSTER_IP")
        #expect(
            config.hotkeys == [
                UserCommand(key: .character("P"), name: "ping", summary: "ping the node three times", command: "ping -c 3 $MUSTER_IP", wait: true),
                UserCommand(
                    key: .control("l"),
                    name: "logs",
                    summary: "muster logs $MUSTER_CONTEXT/$MUSTER_NODE",
                    command: "muster logs $MUSTER_CONTEXT/$MUSTER_NODE",
                    wait: false
                ),
                UserCommand(key: .function(5), name: "top", summary: "ssh $MUSTER_IP top", command: "ssh $MUSTER_IP top", wait: false),
            ]
        )
    }

    @Test func `no file, an empty file or an empty mapping leave every default`() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-config-\(UUID().uuidString)").path
        #expect(try ConsoleConfig.load(from: folder + "/config.yaml") == ConsoleConfig())
        #expect(try ConsoleConfig.parse("", file: "config.yaml") == ConsoleConfig())
        #expect(try ConsoleConfig.parse("{}", file: "config.yaml") == ConsoleConfig())
        #expect(ConsoleConfig.standardFile(environment: ["XDG_CONFIG_HOME": "/x/config", "HOME": "/home/u"]) == "/x/config/muster/config.yaml")
        #expect(ConsoleConfig.standardFile(environment: ["HOME": "/home/u"]) == "/home/u/.config/muster/config.yaml")
    }

    @Test(
        "mistakes are errors naming the file, the line and what is wrong",
        arguments: [
            ("theme: light\nrefesh: 2\n", "config.yaml:2:1: error: unknown key 'refesh' (known: theme, refresh, shell, hotkeys)"),
            ("refresh: 0\n", "refresh must be a number of seconds from 0.1 to 60"),
            ("shell:\n  login: sh\n", "unknown key 'shell.login' (known: local, remote)"),
            ("hotkeys:\n  - key: j\n    command: echo\n", "the key j is the console's own (next row); choose another"),
            ("hotkeys:\n  - key: two\n    command: echo\n", "a hotkey's key must be one character, ctrl-X or F1…F12"),
            ("hotkeys:\n  - key: P\n", "a hotkey needs a command"),
            ("hotkeys:\n  - key: P\n    command: a\n  - key: P\n    command: b\n", "the key P is bound to more than one hotkey"),
            ("hotkeys:\n  - key: P\n    command: a\n    wait: sometimes\n", "wait must be true or false"),
        ]
    )
    func mistakes(yaml: String, message: String) {
        #expect(throws: ThemeError.self) { try ConsoleConfig.parse(yaml, file: "config.yaml") }
        do {
            _ = try ConsoleConfig.parse(yaml, file: "config.yaml")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
            #expect("\(error)".hasPrefix("config.yaml"), "\(error)")
        }
    }

    // MARK: Hotkeys and the clipboard, through the loop

    /// A loop over the progress scene whose hotkeys are `commands`, with scheduler-0 (failed, 10.0.0.3) selected.
    static func loop(commands: [UserCommand], environment: [String: String], localRoot: String? = nil) throws -> (ConsoleLoop, HeadlessTerminal) {
        var options = ConsoleOptions()
        options.userCommands = commands
        let (session, _) = try Scenes.progress(size: ScreenSize(width: 100, height: 30), options: options)
        let terminal = HeadlessTerminal(size: ScreenSize(width: 100, height: 30))
        let loop = ConsoleLoop(
            session: session,
            driver: terminal,
            inbox: ConsoleInbox(),
            theme: .builtInDark,
            loadTheme: { ThemeCatalog(folders: []).load($0) },
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            now: { Date(timeIntervalSince1970: 1_700_000_100) },
            commands: NodeCommands(
                temporaryFolder: NSTemporaryDirectory(),
                broker: Scenes.broker,
                localRoot: { _, _ in localRoot },
                localEnvironment: { root in ["HOME": root, "PATH": "/usr/bin:/bin"] },
                operatorEnvironment: environment,
                user: commands
            ),
            perform: { _, _ in }
        )
        loop.prepare()
        // Rows: context, rabbitmq-head, rabbitmq-head-0, provisioner, provisioner-0, -1, -2, scheduler, scheduler-0.
        terminal.type(.key(.character("g")))
        for _ in 0..<8 { terminal.type(.key(.character("j"))) }
        for _ in 0..<9 { loop.turn() }
        return (loop, terminal)
    }

    /// A hotkey that writes its variables to the file `$OUT`.
    static let printVariables = UserCommand(
        key: .character("P"),
        name: "vars",
        summary: "",
        command: #"echo "$MUSTER_NODE $MUSTER_IP $MUSTER_CONTEXT $MUSTER_WORKSPACE $MUSTER_STATE $MUSTER_BROKER ${MUSTER_ROOT-none}" > "$OUT""#,
        wait: false
    )

    @Test func `a hotkey runs its command for the selected node with $MUSTER_NODE, $MUSTER_IP, $MUSTER_CONTEXT and the rest`() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("muster-hotkey-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let (loop, terminal) = try Self.loop(commands: [Self.printVariables], environment: ["OUT": out, "PATH": "/usr/bin:/bin"])
        #expect(loop.session.state.selectedNode(loop.session.model) == loop.session.model.index(ofNode: "scheduler-0"))
        terminal.type(.key(.character("P")))
        loop.turn()
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "scheduler-0 10.0.0.3 ctx-1 scheduler failed \(Scenes.broker) none\n")
        #expect(loop.session.state.status == StatusMessage("vars on scheduler-0 ended", .success))
        #expect(terminal.suspensions == 1, "the console stepped aside while the command ran")
    }

    @Test func `a hotkey for a node on this machine also gets $MUSTER_ROOT`() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("muster-root-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let out = root + "/out"
        let (loop, terminal) = try Self.loop(commands: [Self.printVariables], environment: ["OUT": out, "PATH": "/usr/bin:/bin"], localRoot: root)
        terminal.type(.key(.character("P")))
        loop.turn()
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasSuffix(" \(root)\n"))
    }

    @Test func `a hotkey's command that fails says so with its status`() throws {
        let failing = UserCommand(key: .character("P"), name: "broken", summary: "", command: "exit 3", wait: false)
        let (loop, terminal) = try Self.loop(commands: [failing], environment: ["PATH": "/usr/bin:/bin"])
        terminal.type(.key(.character("P")))
        loop.turn()
        #expect(loop.session.state.status == StatusMessage("broken on scheduler-0 ended with status 3", .error))
    }

    @Test func `y puts the selected node's address on the terminal's clipboard`() throws {
        let (loop, terminal) = try Self.loop(commands: [], environment: [:])
        terminal.type(.key(.character("y")))
        loop.turn()
        #expect(terminal.clipboard == ["10.0.0.3"])
        #expect(loop.session.state.status == StatusMessage("copied 10.0.0.3 (scheduler-0) to the clipboard"))
    }

    @Test func `the clipboard sequence is OSC 52 with the text's UTF-8 in base64, ended by BEL`() {
        #expect(ClipboardSequence.osc52("10.0.0.3") == "\u{1B}]52;c;MTAuMC4wLjM=\u{07}")
        #expect(ClipboardSequence.osc52("añ ✓") == "\u{1B}]52;c;" + Data("añ ✓".utf8).base64EncodedString() + "\u{07}")
        #expect(ClipboardSequence.osc52("") == "\u{1B}]52;c;\u{07}")
    }
}
