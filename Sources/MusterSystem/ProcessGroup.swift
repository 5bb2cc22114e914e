import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A script's process group: the script (its leader, whose process id is the group id) and everything it
/// started that did not leave the group. Signals go to the whole group, so grandchildren are reached too.
public struct ProcessGroup: Sendable, Hashable {
    /// The group id (the leader's process id).
    public let id: pid_t

    /// Names the group with id `id`.
    public init(id: pid_t) {
        self.id = id
    }

    /// Sends `signal` to every process of the group; a group that is gone is not an error.
    public func send(_ signal: Int32) {
        _ = kill(-id, signal)
    }

    /// The processes still alive in the group (zombies waiting to be reaped do not count).
    ///
    /// On Linux this reads `/proc`; elsewhere it can only tell whether the group has any process at all, and
    /// answers with the group id then.
    public var members: [pid_t] {
        #if os(Linux)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // After "pid (comm)": state, ppid, pgrp, …
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, fields[0] != "Z", fields[0] != "X", pid_t(fields[2]) == id else { return nil }
            return pid
        }
        #else
        return kill(-id, 0) == 0 ? [id] : []
        #endif
    }

    /// Whether process `pid` is alive (neither gone nor a zombie waiting to be reaped).
    public static func isAlive(_ pid: pid_t) -> Bool {
        #if os(Linux)
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return false
        }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
        #else
        return kill(pid, 0) == 0
        #endif
    }

    /// Whether no live process is left in the group.
    public var isEmpty: Bool { members.isEmpty }

    /// Ends the whole group: `SIGTERM` (and `SIGCONT`, so that stopped processes see it), then, if any process
    /// is still alive after `grace`, `SIGKILL`. Returns once the group is empty, or after a further second of
    /// waiting for the kernel to finish the kills. Runs to the end even if the calling task is cancelled.
    public func terminate(grace: Duration) async {
        await Task { await self.terminateNow(grace: grace) }.value
    }

    private func terminateNow(grace: Duration) async {
        guard !isEmpty else { return }
        send(SIGTERM)
        send(SIGCONT)
        if await waitUntilEmpty(for: grace) { return }
        send(SIGKILL)
        _ = await waitUntilEmpty(for: .seconds(1))
    }

    /// Polls (every 20 ms) until the group is empty; false when `limit` passed first.
    private func waitUntilEmpty(for limit: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        while !isEmpty {
            guard clock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
