import Foundation
import MusterSystem
import Synchronization

/// Hands out user ids to nodes (``NodeIsolation/separateUsers(_:)``): one per node, never shared by two nodes on
/// this machine, even of two `muster up`s.
///
/// An id is claimed machine-wide like a loopback block (``LoopbackAddresses``): a file named after it, created
/// exclusively in a claims folder that only root may write, holding the claiming process id, so that the id of a
/// process that died can be taken over. A node keeps its id across retries (its root's files are owned by it);
/// ids are released when the launcher stops.
final class NodeUsers: Sendable {
    private let range: NodeUserRange
    private let claimsFolder: String
    private let claimed = Mutex<[String: uid_t]>([:])

    init(
        range: NodeUserRange,
        claimsFolder: String = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-node-user-claims")
    ) {
        self.range = range
        self.claimsFolder = claimsFolder
    }

    /// The id of a node (`context/node`), claimed on first use.
    func user(for key: String) throws(LaunchError) -> uid_t {
        if let existing = claimed.withLock({ $0[key] }) { return existing }
        try prepareFolder()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let candidate = uid_t(UInt32.random(in: range.first...range.last, using: &generator))
            if claim(candidate) {
                claimed.withLock { $0[key] = candidate }
                return candidate
            }
        }
        throw LaunchError("no free node user id in \(range.first)–\(range.last) (claims in \(claimsFolder))")
    }

    /// The id a node has, if it has one.
    func existing(for key: String) -> uid_t? { claimed.withLock { $0[key] } }

    /// Releases every id this allocator holds.
    func releaseAll() {
        let ids = claimed.withLock { state in
            defer { state.removeAll() }
            return Array(state.values)
        }
        for id in ids { try? FileManager.default.removeItem(atPath: claimPath(id)) }
    }

    private func claimPath(_ id: uid_t) -> String { (claimsFolder as NSString).appendingPathComponent("\(id)") }

    /// The claims folder must be root's and closed to others, or a node could forge or remove claims.
    private func prepareFolder() throws(LaunchError) {
        if mkdir(claimsFolder, 0o755) != 0 && errno != EEXIST {
            throw LaunchError("cannot create \(claimsFolder): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(claimsFolder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid(), info.st_mode & 0o022 == 0 else {
            throw LaunchError("\(claimsFolder) must be a folder owned by root that no one else can write; remove it and try again")
        }
    }

    /// Claims `id`; the claim of a process that died is taken over only once no process runs under the id.
    private func claim(_ id: uid_t) -> Bool {
        ClaimFile.claim(claimPath(id)) { UserProcesses.members(of: id).isEmpty }
    }
}
