import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// How the local launcher keeps a node's ctx-scripts away from the broker's state (operator token, database, TLS
/// keys) and from the operator's processes.
///
/// Folder layout alone cannot do it: a script that runs as the operator's user can read anything that user can,
/// whatever the path (through `..`, an absolute path, or `/proc/<pid>/cwd` of the broker). So the separation is
/// made by the system: by user ids when muster runs as root, by namespaces otherwise.
public enum NodeIsolation: Sendable, Equatable, CustomStringConvertible {
    /// Each node's agent (and so every script) runs under a user and group id of its own, taken from the range
    /// (muster runs as root), with no supplementary groups. `setpriv(1)` changes the ids in a process of its own
    /// just before it runs the agent (a multithreaded parent must not change ids between `fork` and `exec`). The broker's state is owned by root, mode 0600/0700; the folders above node roots are
    /// 0711 (they can be crossed, not listed); `/proc/<pid>/environ`, `cwd` and `fd` of other users' processes are
    /// closed to a node.
    case separateUsers(NodeUserRange)
    /// Each node's agent runs as this user inside new user, mount and PID namespaces (through `unshare(1)`), where
    /// the state folder is an empty tmpfs with only the node's own root mounted back, and `/proc` shows only the
    /// node's processes. A second, nested user namespace locks those mounts: a script cannot unmount them.
    case namespaces(unshare: String)
    /// Nodes run as this user with nothing in between: a script can read whatever this user can, the state folder
    /// included. `reason` says why nothing better was possible.
    case notIsolated(reason: String)

    public var description: String {
        switch self {
        case .separateUsers(let range): "a user id of their own (\(range.first)–\(range.last))"
        case .namespaces: "their own user, mount and PID namespaces"
        case .notIsolated(let reason): "as this user, not isolated (\(reason))"
        }
    }

    /// What the operator may ask for (`muster up --isolation`).
    public enum Choice: String, Sendable, CaseIterable {
        /// The best the system allows: separate users as root, else namespaces, else none.
        case auto
        /// Separate user ids (root only).
        case users
        /// User, mount and PID namespaces.
        case namespaces
        /// No isolation.
        case none
    }

    /// Chooses how nodes are isolated, checking that it works here.
    ///
    /// - Parameters:
    ///   - choice: what the operator asked for; anything but `auto` fails (``LaunchError``) when it is not possible.
    ///   - workFolder: the folder under which node roots live (absolute); its ancestors must be searchable by
    ///     other users for separate users, and it must not hold the agent for namespaces.
    ///   - agentExecutable: the `muster-agent` the nodes run (absolute).
    ///   - users: the user ids to use as root.
    public static func choose(
        _ choice: Choice = .auto,
        workFolder: String,
        agentExecutable: String,
        users: NodeUserRange = .standard
    ) async throws(LaunchError) -> NodeIsolation {
        var reasons: [String] = []
        if choice == .auto || choice == .users {
            switch separateUsersProblem(workFolder: workFolder, agentExecutable: agentExecutable, users: users) {
            case nil: return .separateUsers(users)
            case let problem?:
                if choice == .users { throw LaunchError("cannot run nodes as separate users: \(problem)") }
                if geteuid() == 0 { reasons.append(problem) }
            }
        }
        if choice == .auto || choice == .namespaces {
            switch await namespacesProblem(workFolder: workFolder, agentExecutable: agentExecutable) {
            case .success(let unshare): return .namespaces(unshare: unshare)
            case .failure(let problem):
                if choice == .namespaces { throw LaunchError("cannot run nodes in namespaces: \(problem.message)") }
                reasons.append(problem.message)
            }
        }
        return .notIsolated(reason: choice == .none ? "asked for with --isolation none" : reasons.joined(separator: "; "))
    }

    // MARK: Separate users

    static func separateUsersProblem(workFolder: String, agentExecutable: String, users: NodeUserRange) -> String? {
        guard geteuid() == 0 else { return "muster does not run as root" }
        guard tool("setpriv") != nil else { return "setpriv(1) (util-linux) is not installed" }
        guard IDMap.covers("/proc/self/uid_map", users.first, users.last), IDMap.covers("/proc/self/gid_map", users.first, users.last) else {
            return "the ids \(users.first)–\(users.last) are not mapped in this user namespace (/proc/self/uid_map)"
        }
        // A node must reach its root and run the agent: every folder above the work folder must let others cross it.
        for folder in ancestors(of: workFolder) where !othersMay(S_IXOTH, folder) {
            return "\(folder) cannot be crossed by other users (mode o+x), so a node cannot reach its root under \(workFolder)"
        }
        for folder in ancestors(of: agentExecutable) where !othersMay(S_IXOTH, folder) {
            return "\(folder) cannot be crossed by other users (mode o+x), so a node cannot run \(agentExecutable)"
        }
        guard othersMay(S_IXOTH, agentExecutable) else { return "\(agentExecutable) cannot be run by other users (mode o+x)" }
        return nil
    }

    /// Where a util-linux tool is installed, if it is.
    static func tool(_ name: String) -> String? {
        ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The folders above `path` (absolute), from `/` down, `path` excluded.
    static func ancestors(of path: String) -> [String] {
        var folders: [String] = []
        var current = (path as NSString).deletingLastPathComponent
        while !current.isEmpty {
            folders.insert(current, at: 0)
            if current == "/" { break }
            current = (current as NSString).deletingLastPathComponent
        }
        return folders
    }

    private static func othersMay(_ bit: mode_t, _ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else {
            // A folder that does not exist yet is made by root with a mode that lets nodes cross it.
            return errno == ENOENT
        }
        return info.st_mode & bit != 0
    }

    // MARK: Namespaces

    /// The `unshare(1)` that works here, or why none does: the whole sandbox is tried once on a scratch folder.
    static func namespacesProblem(workFolder: String, agentExecutable: String) async -> Result<String, LaunchError> {
        guard let unshare = tool("unshare") else {
            return .failure(LaunchError("unshare(1) (util-linux) is not installed"))
        }
        let work = (workFolder as NSString).standardizingPath + "/"
        if agentExecutable.hasPrefix(work) {
            return .failure(LaunchError("the agent \(agentExecutable) lies under the work folder, which nodes must not see"))
        }
        let scratch = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-namespace-probe-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let root = scratch + "/nodes/probe"
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try Data("hidden".utf8).write(to: URL(fileURLWithPath: scratch + "/secret"))
            // Inside: the secret is gone, the root is there and writable, and the hiding mount cannot be undone.
            let check = "test ! -e '\(scratch)/secret' && touch ./written && ! umount '\(scratch)' 2>/dev/null"
            let result = try await Subprocess.run(
                .path(FilePath(unshare)),
                arguments: Arguments(NamespaceSandbox.arguments(unshare: unshare, root: root, hide: scratch, command: ["/bin/sh", "-c", check])),
                workingDirectory: FilePath(root),
                output: .string(limit: 4_096),
                error: .string(limit: 4_096)
            )
            guard result.terminationStatus.isSuccess, FileManager.default.fileExists(atPath: root + "/written") else {
                let said = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
                return .failure(LaunchError("user namespaces are not available here (\(said.isEmpty ? "\(result.terminationStatus)" : said))"))
            }
            return .success(unshare)
        } catch {
            return .failure(LaunchError("user namespaces could not be tried: \(error)"))
        }
    }
}

/// The user and group ids the launcher gives nodes when it runs as root, one per node: a block no account uses.
public struct NodeUserRange: Sendable, Equatable {
    /// The first id.
    public var first: UInt32
    /// The last id (included).
    public var last: UInt32

    /// Creates a range; `first` must not be above `last`, and 0 is never used.
    public init(first: UInt32, last: UInt32) throws(LaunchError) {
        guard first > 0, first <= last else { throw LaunchError("the node user ids \(first)–\(last) are not a range of ids above 0") }
        self.first = first
        self.last = last
    }

    /// 2,100,000,000–2,100,099,999: far above the ids of accounts and of the usual subordinate ranges (`/etc/subuid`).
    public static let standard = NodeUserRange(unchecked: 2_100_000_000, 2_100_099_999)

    private init(unchecked first: UInt32, _ last: UInt32) {
        self.first = first
        self.last = last
    }

    /// Parses `FIRST-LAST`.
    public init(parsing text: String) throws(LaunchError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = UInt32(parts[0]), let last = UInt32(parts[1]) else {
            throw LaunchError("node user ids must be written FIRST-LAST (for example 2100000000-2100099999), not \(text)")
        }
        try self.init(first: first, last: last)
    }
}

/// `/proc/self/uid_map` and `gid_map`: which ids exist in this user namespace.
enum IDMap {
    static func covers(_ path: String, _ first: UInt32, _ last: UInt32) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").compactMap { UInt64($0) }
            guard fields.count == 3 else { continue }
            if UInt64(first) >= fields[0] && UInt64(last) < fields[0] + fields[2] { return true }
        }
        return false
    }
}

/// The `unshare(1)` command line that starts a command in a node's sandbox (``NodeIsolation/namespaces(unshare:)``).
///
/// The outer `unshare` makes a user namespace (this user as root in it), a mount namespace and a PID namespace with
/// its own `/proc`. A small shell there mounts an empty tmpfs over `hide` and mounts the node's root (still reachable
/// as the shell's working directory) back at its path, then starts the command through a second `unshare` into a
/// nested user and mount namespace mapped back to this user's ids. Mounts inherited into a less privileged mount
/// namespace are locked together: the script cannot unmount the tmpfs or the new `/proc` to see what they cover.
/// (Bubblewrap does the same.) The shell stays as the namespace's process 1, so the agent gets signals as usual.
enum NamespaceSandbox {
    static func arguments(unshare: String, root: String, hide: String, command: [String]) -> [String] {
        let script = """
            set -e
            cd "$1"
            mount -t tmpfs -o mode=0755,size=1m muster-hidden "$2"
            mkdir -p "$1"
            mount --no-canonicalize --bind /proc/self/cwd "$1"
            cd "$1"
            shift 2
            exec 3<&0
            "$@" 0<&3 3<&- &
            child=$!
            trap 'kill -TERM $child 2>/dev/null' TERM INT HUP
            while :; do
              wait $child && exit 0 || status=$?
              kill -0 $child 2>/dev/null || exit $status
            done
            """
        return [
            "--user", "--map-root-user", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--mount-proc",
            "--", "/bin/sh", "-c", script, "muster-sandbox", root, hide,
            unshare, "--user", "--map-user=\(getuid())", "--map-group=\(getgid())", "--mount", "--",
        ] + command
    }
}
