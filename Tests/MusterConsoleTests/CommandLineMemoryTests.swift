import Foundation
import Logging
import MusterCore
import Synchronization
import Testing

@testable import MusterConsole

/// The command line remembers: `↑`/`↓` history kept across runs in a file, and Tab completion of node names.
@Suite("Command line memory")
struct CommandLineMemoryTests {
    /// A terminal the test types into while the console runs on its own thread: a wait returns when input comes
    /// (or after a short while, so that the loop also sees its inbox).
    final class TypedTerminal: TerminalDriver, @unchecked Sendable {
        private let queue = Mutex<[[ConsoleInput]]>([])
        private let arrived = DispatchSemaphore(value: 0)
        let size = ScreenSize(width: 100, height: 30)
        var supportsColor: Bool { true }
        var supportsUnicode: Bool { true }

        func type(_ inputs: ConsoleInput...) {
            queue.withLock { $0.append(inputs) }
            arrived.signal()
        }

        func waitForInput(timeout: Double?, wakeUp: WakeUpPipe) -> [ConsoleInput] {
            _ = arrived.wait(timeout: .now() + min(timeout ?? 0.05, 0.05))
            wakeUp.drain()
            return queue.withLock { $0.isEmpty ? [] : $0.removeFirst() }
        }

        func start() throws {}
        func stop() {}
        func apply(_ theme: Theme) {}
        func draw(_ update: FrameUpdate) {}
        func suspend() {}
        func resume() {}
        func copyToClipboard(_ text: String) {}
    }

    /// A broker with no context: nothing to follow.
    struct EmptyFeed: ConsoleFeed {
        func updates(for context: ContextID) -> AsyncStream<ConsoleUpdate> { AsyncStream { $0.finish() } }
        func output(of node: String, in context: ContextID, attempt: Int, live: Bool) -> AsyncStream<ConsoleUpdate> {
            AsyncStream { $0.finish() }
        }
        func contexts() async -> [ContextSummary]? { [] }
    }

    /// Tells the test each document launched.
    struct LaunchRecorder: ConsoleActions {
        let launched: AsyncStream<String>.Continuation
        func launch(documentAt path: String) async throws -> ContextID {
            launched.yield(path)
            return "launched-1"
        }
        func addNodes(context: ContextID, workspace: String, count: Int) async throws {}
        func retry(context: ContextID, node: String) async throws {}
        func kill(context: ContextID, node: String) async throws {}
        func removeNode(context: ContextID, node: String) async throws {}
    }

    /// Runs a console with a history file; `drive` types into it and returns once the console may quit.
    static func run(historyFile: String, _ drive: @Sendable (TypedTerminal, inout AsyncStream<String>.Iterator) async -> Void) async throws {
        let terminal = TypedTerminal()
        let (launched, sink) = AsyncStream<String>.makeStream()
        let configuration = ConsoleConfiguration(
            broker: "http://127.0.0.1:1",
            context: nil,
            options: ConsoleOptions(),
            themes: ThemeCatalog(folders: []),
            colorsDisabled: true,
            historyFile: historyFile
        )
        let console = Task {
            try await ConsoleRunner.run(
                configuration: configuration,
                feed: EmptyFeed(),
                actions: LaunchRecorder(launched: sink),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                handleSignals: false,
                makeDriver: { terminal }
            )
        }
        var launches = launched.makeAsyncIterator()
        await drive(terminal, &launches)
        terminal.type(.key(.character("q")))
        try await console.value
    }

    static func keys(_ text: String) -> [ConsoleInput] { text.map { .key(.character($0)) } }

    @Test(.timeLimit(.minutes(5)))
    func `commands typed in one run are recalled with ↑ in the next, from the history file`() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-history-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/state/console-history"

        try await Self.run(historyFile: file) { terminal, launches in
            for input in [ConsoleInput.key(.character(":"))] + Self.keys("launch first.xml") + [.key(.enter)] { terminal.type(input) }
            #expect(await launches.next() == "first.xml")
            for input in [ConsoleInput.key(.character(":"))] + Self.keys("tree") + [.key(.enter)] { terminal.type(input) }
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "launch first.xml\ntree\n")
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the history may hold paths: only its owner reads it")

        // A new console: ↑ twice brings back the launch of the first run, Enter runs it again.
        try await Self.run(historyFile: file) { terminal, launches in
            terminal.type(.key(.character(":")), .key(.up), .key(.up), .key(.enter))
            #expect(await launches.next() == "first.xml")
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "launch first.xml\ntree\nlaunch first.xml\n")
    }

    @Test func `↑ and ↓ step through a loaded history and give back what was being typed`() throws {
        var (session, _) = try Scenes.progress(size: ScreenSize(width: 100, height: 30))
        session.setHistory(CommandHistory(entries: ["launch a.xml", "scale provisioner +1"]))
        func press(_ key: Key) { _ = session.handle(.key(key), at: Date(timeIntervalSince1970: 0)) }
        press(.character(":"))
        press(.character("t"))
        press(.up)
        #expect(session.state.prompt?.text == "scale provisioner +1")
        press(.up)
        #expect(session.state.prompt?.text == "launch a.xml")
        press(.up)
        #expect(session.state.prompt?.text == "launch a.xml", "the oldest stays")
        press(.down)
        press(.down)
        #expect(session.state.prompt?.text == "t", "after the newest, the draft")
    }

    @Test func `a history file keeps the last 500 lines, and a missing one is an empty history`() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("muster-history-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(CommandHistory.load(from: file).entries.isEmpty)
        CommandHistory(entries: (1...600).map { "scale app +\($0)" }).save(to: file)
        let loaded = CommandHistory.load(from: file)
        #expect(loaded.entries.count == 500)
        #expect(loaded.entries.first == "scale app +101" && loaded.entries.last == "scale app +600")
        #expect(CommandHistory.standardFile(environment: ["XDG_STATE_HOME": "/x/state", "HOME": "/home/u"]) == "/x/state/muster/console-history")
        #expect(CommandHistory.standardFile(environment: ["HOME": "/home/u"]) == "/home/u/.local/state/muster/console-history")
    }

    // MARK: Completing node names

    @Test func `Tab completes a node name after :node, and lists the candidates when several match`() {
        let names = CommandCompletion.Names(
            workspaces: ["provisioner"],
            themes: [],
            contexts: [],
            nodes: ["provisioner-0", "provisioner-1", "scheduler-0"]
        )
        #expect(CommandCompletion.complete("no", names: names) == ("node ", []))
        #expect(CommandCompletion.complete("node sch", names: names) == ("node scheduler-0 ", []))
        #expect(CommandCompletion.complete("node prov", names: names) == ("node provisioner-", ["provisioner-0", "provisioner-1"]))
        #expect(CommandCompletion.complete("scale prov", names: names) == ("scale provisioner ", []), ":scale completes workspaces, not nodes")
    }

    @Test func `:node with a Tab-completed name opens that node's detail; an unknown name says so`() throws {
        var (session, _) = try Scenes.progress(size: ScreenSize(width: 100, height: 30))
        func press(_ key: Key) { _ = session.handle(.key(key), at: Date(timeIntervalSince1970: 0)) }
        press(.character(":"))
        for character in "node sched" { press(.character(character)) }
        press(.tab)
        #expect(session.state.prompt?.text == "node scheduler-0 ")
        press(.enter)
        #expect(session.state.view == .detail)
        #expect(session.state.detail?.node == session.model.index(ofNode: "scheduler-0"))
        press(.escape)
        #expect(session.state.treeSelection == .node(session.model.index(ofNode: "scheduler-0")!), "Esc returns to the node in the tree")

        press(.character(":"))
        for character in "node nobody-0" { press(.character(character)) }
        press(.enter)
        #expect(session.state.view == .tree)
        #expect(session.state.status == StatusMessage("no node 'nobody-0' in this context (Tab completes node names)", .error))
    }
}
