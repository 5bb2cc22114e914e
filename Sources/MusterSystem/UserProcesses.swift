import Foundation

/// The processes of one user id, found through `/proc`, and how to end them all.
///
/// When the local launcher runs each node under a user id of its own, every process of that id belongs to the node,
/// even one that left the agent's session (`setsid`). Stopping the node therefore ends them all.
public enum UserProcesses {
    /// The ids of live processes whose real user id is `user`.
    public static func members(of user: uid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var members: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry), let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8) else { continue }
            // "Uid:\treal\teffective\tsaved\tfs"
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }) else { continue }
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count > 1, let real = uid_t(fields[1]), real == user else { continue }
            if ProcessSession.isAlive(pid) { members.append(pid) }
        }
        return members
    }

    /// Kills every process of `user` (SIGKILL: by now its session was asked to end and had its grace). Returns once
    /// none is left, or after a few rounds.
    public static func killAll(_ user: uid_t) async {
        for _ in 0..<20 {
            let remaining = members(of: user)
            if remaining.isEmpty { return }
            for pid in remaining { kill(pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(25))
        }
    }
}
