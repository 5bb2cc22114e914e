import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a folder, held for as long as this object lives (in practice, the process's life): one
/// broker per state folder.
///
/// It is an advisory `flock` on a lock file in the folder, taken without waiting. The kernel drops it when the
/// process ends, however it ends, so a crashed broker never leaves a stale lock behind; the file is opened
/// close-on-exec, so no child process holds it on after its parent.
public final class FolderLock: Sendable {
    /// The lock file.
    public let path: String
    private let descriptor: Mutex<Int32?>

    /// Takes the lock on `folder` (created, mode 0700, if missing), through the file `name` in it.
    ///
    /// - Throws: ``FolderLockError`` with ``FolderLockError/isHeld`` when another process holds it.
    public init(folder: String, name: String = "lock") throws(FolderLockError) {
        path = (folder as NSString).appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw FolderLockError(path: path, isHeld: false, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw FolderLockError(path: path, isHeld: false, reason: String(cString: strerror(errno)))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let held = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw FolderLockError(path: path, isHeld: held, reason: held ? "another process holds it" : reason)
        }
        self.descriptor = Mutex(descriptor)
    }

    /// Gives the lock up (before this object goes away: a server that stopped, while its owner lives on).
    public func unlock() {
        descriptor.withLock { descriptor in
            guard let held = descriptor else { return }
            flock(held, LOCK_UN)
            close(held)
            descriptor = nil
        }
    }

    deinit {
        unlock()
    }
}

/// Why a ``FolderLock`` could not be taken.
public struct FolderLockError: Error, Sendable, CustomStringConvertible {
    /// The lock file.
    public var path: String
    /// Whether another process holds the lock (rather than the file being unusable).
    public var isHeld: Bool
    /// What went wrong.
    public var reason: String

    public var description: String { "cannot lock \(path): \(reason)" }
}
