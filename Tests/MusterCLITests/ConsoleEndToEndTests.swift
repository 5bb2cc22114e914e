import Foundation
import Glibc
import Testing

/// A terminal driven like a person would: tmux on a private socket, keys in, screen text out.
struct TmuxTerminal {
    let socket = "muster-test-\(UUID().uuidString.prefix(8))"
    let session = "console"

    /// Runs a tmux command with posix_spawn and waitpid. (Foundation's `Process` does not notice the tmux client
    /// exiting after it forked the tmux server, and `waitUntilExit` then never returns.)
    @discardableResult
    func tmux(_ arguments: [String], captureOutput: Bool = true) throws -> String {
        var pipe: [Int32] = [-1, -1]
        guard Glibc.pipe(&pipe) == 0 else { throw CocoaError(.fileWriteUnknown) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if captureOutput {
            posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        posix_spawn_file_actions_addclose(&actions, pipe[1])
        let argv = (["tmux", "-L", socket] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, "tmux", &actions, nil, argv, environ)
        close(pipe[1])
        guard spawned == 0 else {
            close(pipe[0])
            throw CocoaError(.fileWriteUnknown)
        }
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(pipe[0], &buffer, buffer.count)
            if count <= 0 { break }
            output.append(contentsOf: buffer[0..<count])
        }
        close(pipe[0])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return String(decoding: output, as: UTF8.self)
    }

    func start(width: Int, height: Int, command: String) throws {
        // The tmux server this starts keeps running: it must not inherit a pipe we wait to see closed.
        try tmux(["new-session", "-d", "-x", String(width), "-y", String(height), "-s", session, command], captureOutput: false)
    }

    func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", session] + keys, captureOutput: false) }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", session]) }

    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", session, "-x", String(width), "-y", String(height)], captureOutput: false)
    }

    /// Waits until the screen shows `text` (the screen changes on its own; there is no event to await).
    @discardableResult
    func waitFor(_ text: String, timeout: Duration = .seconds(300), sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var last = ""
        while clock.now < deadline {
            last = try screen()
            if last.contains(text) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the screen never showed '\(text)':\n\(last)", sourceLocation: sourceLocation)
        return last
    }

    func stop() { _ = try? tmux(["kill-server"], captureOutput: false) }
}

@Suite("The console in a real terminal")
struct ConsoleEndToEndTests {
    @Test func `an operator watches the CPE boot, reads a dependent's output, kills and retries a node, resizes and quits`() async throws {
        let work = workFolder("console")
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        let muster = CommandRunner.productsFolder.appendingPathComponent("muster").path
        let marker = "console-ended-\(UUID().uuidString.prefix(6))"
        try terminal.start(
            width: 120,
            height: 40,
            command:
                "cd \(CommandRunner.repository.path) && TERM=xterm-256color \(muster) up Examples/cpe/cluster.xml --work \(work); echo \(marker) $?; sleep 30"
        )
        // The tree reaches all ok.
        try await terminal.waitFor("4/4 ok")
        var screen = try await terminal.waitFor("complete, all ok")
        #expect(screen.contains("✓ rabbitmq-head-0"))
        let headIP = try #require(
            screen.split(separator: "\n").first { $0.contains("✓ rabbitmq-head-0") }?.split(separator: " ").first { $0.hasPrefix("127.") }.map(
                String.init
            )
        )

        // Enter on a dependent: its 1-ipandhost output names the head's IP.
        try terminal.keys("g")
        for _ in 0..<4 { try terminal.keys("j") }
        try terminal.keys("Enter")
        screen = try await terminal.waitFor("node provisioner-0")
        screen = try await terminal.waitFor("RabbitMQ-head IP: \(headIP)")
        #expect(screen.contains("RabbitMQ-head Hostname: rabbitmq-head-0."))

        // Back to the tree; kill the selected node (x, y) and see it killed.
        try terminal.keys("Escape")
        try await terminal.waitFor("─ 1 tree")
        try terminal.keys("x")
        try await terminal.waitFor("Kill node provisioner-0?")
        try terminal.keys("y")
        screen = try await terminal.waitFor("⊘ provisioner-0")
        #expect(screen.contains("killed"))

        // Retry it (r, y): it comes back ok.
        try terminal.keys("r")
        try await terminal.waitFor("Retry node provisioner-0?")
        try terminal.keys("y")
        try await terminal.waitFor("retrying provisioner-0")
        screen = try await terminal.waitFor("4/4 ok")
        #expect(screen.contains("✓ provisioner-0"))

        // 80×24 stays readable.
        try terminal.resize(width: 80, height: 24)
        screen = try await terminal.waitFor("✓ aggregator-0")
        let lines = screen.trimmingCharacters(in: .newlines).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count <= 24)
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(screen.contains("muster cpe"))

        // q quits (asking first: stopping it stops the nodes); the terminal is a shell again.
        try terminal.keys("q")
        screen = try await terminal.waitFor("Quit and stop the embedded broker?")
        try terminal.keys("y")
        screen = try await terminal.waitFor("\(marker) 0")
        #expect(!screen.contains("─ 1 tree"), "the console's screen is gone")
        #expect(processes(mentioning: "--userdata \(work)").isEmpty, "quitting stopped every node")
    }
}
