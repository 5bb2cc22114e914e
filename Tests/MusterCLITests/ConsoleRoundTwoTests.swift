import Foundation
import Testing

/// The console's second round, end to end in a real terminal (tmux): each defect of issue 13 and each new view
/// or action, driven with keys and read from the screen.
@Suite("The console in a real terminal, second round")
struct ConsoleRoundTwoTests {
    static let muster = CommandRunner.productsFolder.appendingPathComponent("muster").path

    /// A cluster of one workspace of `quantity` nodes whose only script is `script`, in a folder of its own.
    static func cluster(_ workspace: String, quantity: Int, script: String = "echo configured $MUSTER_NODE") throws -> String {
        try UpCommandTests.makeExample(
            """
            <cluster>
              <workspace><name>\(workspace)</name><image>\(workspace)-image</image><quantity>\(quantity)</quantity><nic>public</nic>
                <ctx><provides><identity/></provides></ctx></workspace>
            </cluster>
            """,
            scripts: ["\(workspace)-image/ctx-scripts/2-thishost/publicnic": script]
        ) + "/cluster.xml"
    }

    /// Starts `muster up FILE` in a terminal and waits until all `nodes` are ok (or the screen shows `until`);
    /// returns the context id.
    @discardableResult
    static func up(
        _ file: String,
        nodes: Int,
        state: String,
        in terminal: TmuxTerminal,
        width: Int = 140,
        height: Int = 40,
        extra: String = "",
        until: String? = nil
    )
        async throws -> String
    {
        try await terminal.start(
            width: width,
            height: height,
            command: "cd \(CommandRunner.repository.path) && TERM=xterm-256color \(muster) up \(file) --state \(state) \(extra); sleep 600"
        )
        let screen = try await terminal.waitFor(until ?? "\(nodes)/\(nodes) ok")
        return try #require(contextID(in: screen))
    }

    /// The context id in the header: ` muster NAME (ID) · broker …`.
    static func contextID(in screen: String) -> String? {
        guard let header = screen.split(separator: "\n").first, let open = header.firstIndex(of: "("), let close = header.firstIndex(of: ")") else {
            return nil
        }
        return String(header[header.index(after: open)..<close])
    }

    /// Launches `file` from the console's command line (`:launch FILE`); returns the new context's id.
    static func launch(_ file: String, in terminal: TmuxTerminal) async throws -> String {
        try await terminal.keys(":launch \(file)", "Enter")
        let screen = try await terminal.waitFor("launched context ")
        return try #require(launchedID(in: screen))
    }

    /// The id in the status line's `launched context ID from FILE`.
    static func launchedID(in screen: String) -> String? {
        guard let range = screen.range(of: "launched context ") else { return nil }
        return screen[range.upperBound...].split(separator: " ").first.map(String.init)
    }

    /// The broker's count of open event and output streams (`muster_open_streams`).
    static func openStreams(state: String) async throws -> Int? {
        let url = try ExitStatusTests.brokerURL(state)
        let metrics = try await CommandRunner.shell("curl -s --max-time 5 \(url)/metrics", in: FileManager.default.temporaryDirectory)
        let line = metrics.stdout.split(separator: "\n").first { $0.hasPrefix("muster_open_streams") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }.map { Int($0) }
    }

    @Test func `after :launch of a document in another folder and a :context switch, a kill from the CLI shows at once`() async throws {
        let state = workFolder("switch")
        let first = try Self.cluster("alpha", quantity: 8)
        let second = try Self.cluster("beta", quantity: 2)
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        let alpha = try await Self.up(first, nodes: 8, state: state, in: terminal)

        // The second document's images are next to it, in another folder: every node boots ok.
        let beta = try await Self.launch(second, in: terminal)
        var screen = try await terminal.waitUntil("the launched context \(beta) never showed 2/2 ok") {
            Self.contextID(in: $0) == beta && $0.contains("2/2 ok")
        }
        #expect(screen.contains("✓ beta-0") && screen.contains("✓ beta-1"))

        try await terminal.keys(":context \(alpha)", "Enter")
        screen = try await terminal.waitFor("8/8 ok")
        #expect(Self.contextID(in: screen) == alpha)

        // The console holds one stream (its event stream), not one per node it ever saw. (The broker notices a
        // stream the client closed when it next writes to it, at the latest at its 15 s heartbeat.)
        var streams: Int?
        let deadline = ContinuousClock.now + .seconds(40)
        while ContinuousClock.now < deadline {
            streams = try await Self.openStreams(state: state)
            if let streams, streams <= 1 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(streams == 1)

        // The kill must show soon after the broker acknowledged it (the CLI returning): well under a second on an idle
        // machine; the bound allows for the whole suite running in parallel on two cores. The long timeout only
        // guards against a hang; the measure is the time from the acknowledgement to the screen.
        let kill = try await CommandRunner.muster(["kill", "\(alpha)/alpha-3", "--state", state])
        let acknowledged = ContinuousClock.now
        #expect(kill.status == 0, "\(kill.stderr)")
        screen = try await terminal.waitUntil(timeout: .seconds(30), "the kill never showed") { $0.contains("⊘ alpha-3") }
        let delay = ContinuousClock.now - acknowledged
        #expect(delay < .seconds(5), "the kill showed \(delay) after the broker acknowledged it")
        #expect(!screen.contains("reconnecting"))
    }

    @Test func `:launch of a missing file says so in one clean line, without Foundation's error text`() async throws {
        let state = workFolder("missing")
        let file = try Self.cluster("mu", quantity: 1)
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        _ = try await Self.up(file, nodes: 1, state: state, in: terminal)
        let missing = workFolder("nowhere") + "/absent/cluster.xml"
        try await terminal.keys(":launch \(missing)", "Enter")
        let screen = try await terminal.waitFor("cannot read \(missing)")
        let lines = screen.split(separator: "\n").filter { $0.contains("absent/cluster.xml") }
        #expect(lines.count == 1, "one line names the file:\n\(screen)")
        #expect(lines.first?.contains("cannot read \(missing): no such file") == true, "\(screen)")
        #expect(!screen.contains("Error Domain") && !screen.contains("NSCocoaErrorDomain"), "\(screen)")
        #expect(screen.contains("─ 1 tree"), "the console goes on")
    }

    /// Runs `muster console` with `TERM=term` and a state folder of its own in a terminal wide enough for any
    /// message on one line, until it ends; returns the screen, whose last line is `CONSOLE-ENDED STATUS`.
    static func consoleThatEnds(term: String, state: String, in terminal: TmuxTerminal) async throws -> String {
        try await terminal.start(
            width: 300,
            height: 20,
            command: "TERM=\(term) \(Self.muster) console --state \(state); echo CONSOLE-ENDED $?; sleep 600"
        )
        return try await terminal.waitFor("CONSOLE-ENDED")
    }

    @Test func `muster console with no broker prints one line and exits 69`() async throws {
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        // A state folder with no broker.json: nothing to connect to.
        let screen = try await Self.consoleThatEnds(term: "xterm-256color", state: workFolder("no-broker"), in: terminal)
        let lines = screen.split(separator: "\n").map(String.init)
        let end = try #require(lines.firstIndex { $0.hasPrefix("CONSOLE-ENDED") })
        #expect(lines[end] == "CONSOLE-ENDED 69", "\(screen)")
        #expect(end == 1, "exactly one line before the exit status:\n\(screen)")
        #expect(lines.first?.hasPrefix("error: ") == true, "\(screen)")
        #expect(!screen.contains("USAGE"), "no usage text for a runtime error")
    }

    @Test func `y puts the node's address on the terminal's clipboard (tmux takes OSC 52 into a buffer)`() async throws {
        let state = workFolder("clipboard")
        let file = try Self.cluster("psi", quantity: 1)
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        let context = try await Self.up(file, nodes: 1, state: state, in: terminal)
        try await terminal.command(["set-option", "-s", "set-clipboard", "on"], captureOutput: false)
        let status = try await CommandRunner.muster(["status", context, "--json", "--state", state])
        let address = try #require(Self.address(of: "psi-0", in: status.stdout), "\(status.stdout)")
        try await terminal.keys("g", "j", "j", "y")
        try await terminal.waitFor("copied \(address) (psi-0) to the clipboard")
        let buffer = try await terminal.command(["show-buffer"])
        #expect(buffer.trimmingCharacters(in: .newlines) == address, "the buffer holds the address alone")
    }

    /// A node's first address in `muster status --json` output.
    static func address(of node: String, in json: String) -> String? {
        guard let data = json.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let context = object["context"] as? [String: Any], let nodes = context["nodes"] as? [[String: Any]],
            let found = nodes.first(where: { $0["name"] as? String == node }), let identities = found["identities"] as? [[String: Any]]
        else { return nil }
        return identities.first?["ip"] as? String
    }

    @Test func `muster console with several contexts opens the contexts view, which lists them; Enter opens one`() async throws {
        let state = workFolder("contexts")
        let first = try Self.cluster("gamma", quantity: 1)
        let second = try Self.cluster("delta", quantity: 1)
        let up = TmuxTerminal()
        defer { up.stop() }
        let gamma = try await Self.up(first, nodes: 1, state: state, in: up)
        let delta = try await Self.launch(second, in: up)
        #expect(delta != gamma)

        let console = TmuxTerminal()
        defer { console.stop() }
        try await console.start(
            width: 120,
            height: 30,
            command: "TERM=xterm-256color \(Self.muster) console --state \(state); echo CONSOLE-ENDED $?; sleep 600"
        )
        var view = try await console.waitUntil("the contexts view never listed \(gamma) and \(delta)") {
            $0.contains("─ 0 contexts") && $0.contains(gamma) && $0.contains(delta)
        }
        #expect(!view.contains("CONSOLE-ENDED"))
        // The oldest context is listed first.
        try await console.keys("g", "Enter")
        view = try await console.waitUntil("Enter never opened \(gamma)") { Self.contextID(in: $0) == gamma && $0.contains("1/1 ok") }
        #expect(view.contains("✓ gamma-0"))
    }

    @Test func `themes load when muster is started from PATH, and :theme Tab lists them all`() async throws {
        let state = workFolder("themes")
        let file = try Self.cluster("theta", quantity: 1)
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        let folder = (file as NSString).deletingLastPathComponent
        try await terminal.start(
            width: 120,
            height: 30,
            command:
                "cd \(folder) && PATH=\(CommandRunner.productsFolder.path):$PATH TERM=xterm-256color muster up cluster.xml --state \(state) --theme light; sleep 600"
        )
        var screen = try await terminal.waitFor("1/1 ok")
        #expect(!screen.contains("no theme named"))
        try await terminal.keys(":theme ", "Tab")
        screen = try await terminal.waitFor("solarized")
        #expect(screen.contains("high-contrast") && screen.contains("light") && screen.contains("dark"))
        #expect(screen.contains(":theme █"), "Tab lists the themes without picking one")
    }

    @Test func `a terminal resize redraws the console at once, without a key press`() async throws {
        let state = workFolder("resize")
        let file = try Self.cluster("rho", quantity: 1)
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        _ = try await Self.up(file, nodes: 1, state: state, in: terminal, width: 120, height: 30)
        try await terminal.resize(width: 90, height: 24)
        // No key is pressed: the console redraws on the resize alone, its title rule spanning the new width and
        // its key bar on the new last row (as many of the tree's keys as fit in 90 columns). The screen is read
        // until both show: tmux may be read while the frame is still being written.
        try await terminal.waitUntil(timeout: .seconds(10), "the console was not redrawn at 90×24") { screen in
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).prefix(24)
            let bottom = lines.last ?? ""
            return lines.contains { $0.hasPrefix("─ 0 contexts") && $0.count == 90 } && bottom.contains("⏎ open") && bottom.contains("/ filter")
        }
    }

    @Test func `the timeline draws a bar per node and names the critical chain`() async throws {
        let state = workFolder("timeline")
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        _ = try await Self.up("Examples/cpe/cluster.xml", nodes: 4, state: state, in: terminal)
        try await terminal.keys("4")
        let nodes = ["rabbitmq-head-0", "provisioner-0", "scheduler-0", "aggregator-0"]
        // A node's row: chain mark, state, name, then its bar, which ends with the node's state. (The chain's
        // summary names nodes too, and the tree's rows have the state and name but no bar; the screen is read
        // until the whole timeline is written.)
        func bar(of node: String, in screen: String) -> String? {
            screen.split(separator: "\n").lazy.compactMap { line in
                line.range(of: "✓ \(node) ").map { line[$0.upperBound...].trimmingCharacters(in: .whitespaces) }
            }.first { $0.contains("━") || $0.contains("─") }
        }
        let screen = try await terminal.waitUntil("the timeline never showed a bar ending ✓ for every node") { screen in
            screen.contains("critical chain (") && nodes.allSatisfy { bar(of: $0, in: screen)?.last == "✓" }
        }
        let chain = try #require(screen.split(separator: "\n").first { $0.contains("critical chain (") })
        #expect(chain.contains("scripts") && chain.contains("boot"), "\(chain)")
        #expect(screen.contains("★"), "the nodes on the chain are marked")
    }

    @Test func `s opens a shell in the node's root with its environment, and the console comes back after exit`() async throws {
        let state = workFolder("shell")
        let file = try Self.cluster("sigma", quantity: 1)
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        let context = try await Self.up(file, nodes: 1, state: state, in: terminal)
        try await terminal.keys("g", "j", "j", "s")
        // Keys sent before the console gave the terminal to the shell would reach the console.
        try await terminal.waitUntil("the console never stepped aside for the shell") { !$0.contains("─ 1 tree") }
        try await terminal.keys("echo ROOT=$(pwd) NODE=$MUSTER_NODE", "Enter")
        let screen = try await terminal.waitFor("NODE=sigma-0")
        #expect(screen.contains("ROOT=\(state)/\(context)/nodes/sigma-0"))
        try await terminal.keys("exit", "Enter")
        try await terminal.waitFor("shell on sigma-0 ended")
        try await terminal.waitFor("─ 1 tree")
    }

    @Test func `marking three failed nodes and pressing r retries exactly those three`() async throws {
        let state = workFolder("marks")
        let file = try Self.cluster("app", quantity: 4, script: "echo failing on purpose; exit 3")
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        let context = try await Self.up(file, nodes: 4, state: state, in: terminal, until: "4 failed")
        // Rows: context, workspace, app-0 … app-3. Mark app-0, app-1 and app-3 (Space moves down).
        try await terminal.keys("g", "j", "j", "Space", "Space", "j", "Space")
        try await terminal.waitFor("3 marked")
        try await terminal.keys("r")
        let screen = try await terminal.waitFor("Retry 3 marked nodes?")
        #expect(screen.contains("app-0, app-1, app-3"))
        try await terminal.keys("y")
        try await terminal.waitFor("retrying 3 marked nodes")
        let status = try await CommandRunner.muster(["status", context, "--json", "--state", state])
        for (node, generation) in [("app-0", 1), ("app-1", 1), ("app-2", 0), ("app-3", 1)] {
            #expect(Self.generation(of: node, in: status.stdout) == generation, "\(node)")
        }
    }

    @Test func `:scale WORKSPACE -N removes failed slots first, kills and removes a running one, and the tree shrinks`() async throws {
        let state = workFolder("scale-down")
        let file = try Self.cluster("app", quantity: 4, script: "case $MUSTER_NODE in app-2|app-3) echo failing; exit 3;; esac; echo fine")
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        let context = try await Self.up(file, nodes: 4, state: state, in: terminal, until: "2 failed")
        try await terminal.keys(":scale app -3", "Enter")
        var screen = try await terminal.waitFor("Scale app down: remove 3 nodes?")
        #expect(screen.contains("app-3, app-2, app-1"), "\(screen)")
        try await terminal.keys("y")
        screen = try await terminal.waitFor("removed 3 nodes of app")
        screen = try await terminal.waitFor("1/1 ok")
        for node in ["app-1", "app-2", "app-3"] { #expect(!screen.contains(node), "the tree no longer shows \(node):\n\(screen)") }
        #expect(screen.contains("app-0"))
        let status = try await CommandRunner.muster(["status", context, "--json", "--state", state])
        for node in ["app-1", "app-2", "app-3"] { #expect(Self.generation(of: node, in: status.stdout) == nil, "\(node) is gone") }
        #expect(Self.generation(of: "app-0", in: status.stdout) == 0)
        let events = try await CommandRunner.muster(["events", "--context", context, "--json", "--state", state])
        #expect(events.stdout.components(separatedBy: "\"node-removed\"").count - 1 == 3, "\(events.stdout)")
    }

    /// A node's generation in `muster status --json` output.
    static func generation(of node: String, in json: String) -> Int? {
        guard let data = json.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let context = object["context"] as? [String: Any], let nodes = context["nodes"] as? [[String: Any]],
            let found = nodes.first(where: { $0["name"] as? String == node })
        else { return nil }
        return found["generation"] as? Int
    }

    @Test func `a failure message is shown whole, wrapped, and earlier attempts' output stays readable after a retry`() async throws {
        let state = workFolder("attempts")
        let file = try Self.cluster(
            "omega",
            quantity: 1,
            script:
                "c=$MUSTER_ROOT/tries; n=$(( $(cat $c 2>/dev/null || echo 0) + 1 )); echo $n > $c; echo attempt-output-$n; echo second line >&2; exit 2"
        )
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        try await terminal.start(
            width: 120,
            height: 40,
            command: "cd \(CommandRunner.repository.path) && TERM=xterm-256color \(Self.muster) up \(file) --state \(state); sleep 600"
        )
        var screen = try await terminal.waitFor("1 failed")
        let context = try #require(Self.contextID(in: screen))
        try await terminal.keys("g", "j", "j", "Enter")
        try await terminal.waitFor("attempt-output-1")
        try await terminal.keys("m")
        screen = try await terminal.waitFor("any other key closes")
        #expect(screen.contains("second line"), "the message's later lines are shown:\n\(screen)")
        #expect(!screen.contains("?second"), "no newline shown as ?")
        try await terminal.keys("Escape")

        try await terminal.keys("r")
        try await terminal.waitFor("Retry node omega-0?")
        try await terminal.keys("y")
        try await terminal.waitFor("attempt 2 of 2")
        try await terminal.waitFor("attempt-output-2")
        try await terminal.keys("[")
        try await terminal.waitFor("attempt 1 of 2, not the latest")
        screen = try await terminal.waitFor("attempt-output-1")
        // The output pane (below its rule) shows attempt 1; the reason above it is the node's latest failure.
        let pane = try #require(screen.range(of: "─ output attempt 1 of 2"))
        #expect(screen[pane.lowerBound...].contains("attempt-output-1") && !screen[pane.lowerBound...].contains("attempt-output-2"), "\(screen)")

        let logs = try await CommandRunner.muster(["logs", "\(context)/omega-0", "--attempt", "1", "--state", state])
        #expect(
            logs.status == 0 && logs.stdout.contains("attempt-output-1") && !logs.stdout.contains("attempt-output-2"),
            "\(logs.stdout)\(logs.stderr)"
        )
        let latest = try await CommandRunner.muster(["logs", "\(context)/omega-0", "--state", state])
        #expect(latest.stdout.contains("attempt-output-2") && latest.stderr.contains("attempt 2 of 2"), "\(latest.stdout)\(latest.stderr)")
    }

    @Test func `with TERM=dumb muster up prints progress lines instead of a garbled console`() async throws {
        let state = workFolder("dumb")
        let file = try Self.cluster("delta", quantity: 1)
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        try await terminal.start(
            width: 120,
            height: 30,
            command: "cd \(CommandRunner.repository.path) && TERM=dumb \(Self.muster) up \(file) --state \(state); echo UP-ENDED $?; sleep 600"
        )
        let screen = try await terminal.waitFor("UP-ENDED")
        #expect(screen.contains("muster up: ") && screen.contains("complete, all ok"))
        #expect(screen.contains("UP-ENDED 0"))
    }

    @Test func `muster console with TERM=dumb says why it cannot run, in one line`() async throws {
        let terminal = TmuxTerminal()
        defer { terminal.stop() }
        let screen = try await Self.consoleThatEnds(term: "dumb", state: workFolder("dumb-console"), in: terminal)
        #expect(screen.contains("the console needs a terminal that can move its cursor (TERM=dumb)"))
        #expect(screen.contains("CONSOLE-ENDED 78"))
        #expect(!screen.contains("USAGE"))
    }
}
