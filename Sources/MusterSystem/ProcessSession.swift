import Foundation

/// The processes of one session, found through `/proc`, and how to end them all.
///
/// The local launcher starts each agent as a session leader (`setsid`). Every script the agent runs, and every
/// process those scripts leave behind (a service started with `&`), stays in that session even when it has a
/// process group of its own. Ending a node therefore means signalling the whole session, not one group.
public enum ProcessSession {
    /// The ids of live processes whose session id is `session`.
    public static func members(of session: pid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var members: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8) else { continue }
            // "pid (comm) state ppid pgrp session …": comm may hold spaces and parentheses, so split after the last ')'.
            guard let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 3, let sid = pid_t(fields[3]), sid == session else { continue }
            // A zombie is already dead; it only waits for its parent to reap it.
            if fields[0] == "Z" { continue }
            members.append(pid)
        }
        return members
    }

    /// Whether a process is alive: it exists and is not a zombie waiting to be reaped.
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return false
        }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    /// Sends `signal` to every process of the session but `spared`.
    public static func signal(_ session: pid_t, _ signal: Int32, sparing spared: pid_t? = nil) {
        for pid in members(of: session) where pid != spared { kill(pid, signal) }
    }

    /// Ends every process of the session (but `spared`, such as the caller when it leads the session):
    /// SIGTERM, then SIGKILL for whatever is left after `grace`. Returns once none is left (or after a last
    /// SIGKILL round).
    public static func terminate(_ session: pid_t, grace: Duration = .seconds(3), sparing spared: pid_t? = nil) async {
        func left() -> [pid_t] { members(of: session).filter { $0 != spared } }
        signal(session, SIGTERM, sparing: spared)
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while clock.now < deadline {
            if left().isEmpty { return }
            try? await Task.sleep(for: .milliseconds(25))
        }
        for _ in 0..<20 {
            let remaining = left()
            if remaining.isEmpty { return }
            for pid in remaining { kill(pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(25))
        }
    }
}
