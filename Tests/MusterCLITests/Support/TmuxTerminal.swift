import Foundation
import Glibc
import Testing

/// A terminal driven like a person would: tmux on a private socket, keys in, screen text out.
///
/// Every test that starts one stops it in all paths (`defer { terminal.stop() }`): that ends the tmux server
/// and every process the terminal ran (killed if they do not end by themselves).
struct TmuxTerminal: Sendable {
    let socket = "muster-test-\(UUID().uuidString.prefix(8))"
    let session = "console"

    /// Runs a tmux command with posix_spawn and waitpid. (Foundation's `Process` does not notice the tmux client
    /// exiting after it forked the tmux server, and `waitUntilExit` then never returns.)
    ///
    /// The child gets only standard input, output and error: a tmux server lives on and keeps every descriptor
    /// it inherits, so a pipe that another test (running at the same time) waits to see closed must never
    /// reach it. The reading end here is close-on-exec for the same reason.
    @discardableResult
    func tmux(_ arguments: [String], captureOutput: Bool = true) throws -> String {
        var pipe: [Int32] = [-1, -1]
        if captureOutput {
            guard Glibc.pipe(&pipe) == 0 else { throw CocoaError(.fileWriteUnknown) }
            for end in pipe { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        }
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
        // (`posix_spawn_file_actions_addclosefrom_np` is not visible to Swift: close what is open now, and a
        // margin for descriptors opened meanwhile; closing one that is not open is no error.)
        for descriptor in 3...(Self.highestOpenDescriptor() + 64) {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        // The calling thread blocks nearly every signal (as the runtime's threads do), and a child inherits that:
        // a tmux server would then never see its panes end (SIGCHLD) nor stop, and the programs in its panes
        // would never get the hang-up (SIGHUP) that ends them. The child starts with no signal blocked and every
        // signal at its default.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = (["tmux", "-L", socket] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, "tmux", &actions, &attributes, argv, environ)
        if captureOutput { close(pipe[1]) }
        guard spawned == 0 else {
            if captureOutput { close(pipe[0]) }
            throw CocoaError(.fileWriteUnknown)
        }
        var output = Data()
        if captureOutput {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(pipe[0], &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                output.append(contentsOf: buffer[0..<count])
            }
            close(pipe[0])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return String(decoding: output, as: UTF8.self)
    }

    private static func highestOpenDescriptor() -> Int32 {
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return open.compactMap { Int32($0) }.max() ?? 1024
    }

    /// Runs a tmux command on a thread of its own: tests poll the screen many times a second, and a blocking
    /// call on one of the few threads every concurrently running test shares starves the others (their stub
    /// servers stop answering in time).
    @discardableResult
    func command(_ arguments: [String], captureOutput: Bool = true) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try tmux(arguments, captureOutput: captureOutput) }) }.start()
        }
    }

    func start(width: Int, height: Int, command line: String) async throws {
        try await command(["new-session", "-d", "-x", String(width), "-y", String(height), "-s", session, line], captureOutput: false)
    }

    func keys(_ keys: String...) async throws { try await command(["send-keys", "-t", session] + keys, captureOutput: false) }

    func screen() async throws -> String { try await command(["capture-pane", "-p", "-t", session]) }

    func resize(width: Int, height: Int) async throws {
        try await command(["resize-window", "-t", session, "-x", String(width), "-y", String(height)], captureOutput: false)
    }

    /// Waits until the screen shows `text` (the screen changes on its own; there is no event to await).
    @discardableResult
    func waitFor(_ text: String, timeout: Duration = .seconds(120), sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        try await waitUntil(timeout: timeout, sourceLocation: sourceLocation, "the screen never showed '\(text)'") { $0.contains(text) }
    }

    /// Waits until the screen satisfies `condition`; records an issue naming `what` (and the last screen) after
    /// `timeout`, and returns the last screen either way.
    @discardableResult
    func waitUntil(
        timeout: Duration = .seconds(120),
        sourceLocation: SourceLocation = #_sourceLocation,
        _ what: String,
        _ condition: (String) -> Bool
    ) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var last = ""
        while clock.now < deadline {
            last = try await screen()
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("\(what):\n\(last)", sourceLocation: sourceLocation)
        return last
    }

    /// Ends the tmux server; every process its panes ran gets the hang-up and ends. A thread of its own waits
    /// (at most `grace`) for them to be gone and kills whatever is left: a test's `defer` must not hold one of
    /// the few threads every concurrently running test shares (tests elsewhere would starve and time out).
    func stop(grace: Duration = .seconds(20)) {
        let panes = (try? tmux(["list-panes", "-a", "-F", "#{pane_pid}"])) ?? ""
        let roots = Set(panes.split(separator: "\n").compactMap { pid_t($0) })
        let started = ProcessTree.descendants(of: roots)
        _ = try? tmux(["kill-server"], captureOutput: false)
        Thread { ProcessTree.waitForExit(started, grace: grace) }.start()
    }
}

/// The processes a test started, found through `/proc`. A process is known by its id *and* its start time: ids
/// are reused quickly on a busy machine (threads take them too), and a process that ended must never stand for
/// a new one that got its id, in another test.
enum ProcessTree {
    struct Entry: Hashable, Sendable {
        var pid: pid_t
        var started: UInt64
    }

    /// The processes `roots` name, and every process descended from them.
    static func descendants(of roots: Set<pid_t>) -> Set<Entry> {
        let all = entries()
        var children: [pid_t: [pid_t]] = [:]
        for (pid, entry) in all { children[entry.parent, default: []].append(pid) }
        var found = roots
        var queue = Array(roots)
        while let next = queue.popLast() {
            for child in children[next] ?? [] where found.insert(child).inserted { queue.append(child) }
        }
        return Set(found.compactMap { pid in all[pid].map { Entry(pid: pid, started: $0.started) } })
    }

    /// Waits until none of `processes` is alive (zombies count as ended), at most `grace`; then kills what is left.
    static func waitForExit(_ processes: Set<Entry>, grace: Duration) {
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        var alive = processes.filter(isAlive)
        while !alive.isEmpty && clock.now < deadline {
            usleep(20_000)
            alive = alive.filter(isAlive)
        }
        for process in alive where isAlive(process) { kill(process.pid, SIGKILL) }
    }

    private static func isAlive(_ process: Entry) -> Bool {
        guard let fields = stat(of: process.pid) else { return false }
        return fields.state != "Z" && fields.started == process.started
    }

    /// State, parent and start time from `/proc/PID/stat`.
    private static func stat(of pid: pid_t) -> (state: Substring, parent: pid_t, started: UInt64)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else {
            return nil
        }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let parent = pid_t(fields[1]), let started = UInt64(fields[19]) else { return nil }
        return (fields[0], parent, started)
    }

    /// Every process's parent and start time.
    private static func entries() -> [pid_t: (parent: pid_t, started: UInt64)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [:] }
        var found: [pid_t: (parent: pid_t, started: UInt64)] = [:]
        for name in names {
            guard let pid = pid_t(name), let fields = stat(of: pid) else { continue }
            found[pid] = (fields.parent, fields.started)
        }
        return found
    }
}
