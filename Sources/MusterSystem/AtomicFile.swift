import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way Muster writes files that matter: so that a reader (or a process restarted after a crash) sees
/// either the old or the new content, never half of it, and so that a secret is never readable by anyone else,
/// not even for a moment.
///
/// The bytes go to a new temporary file in the same folder, created with `O_EXCL` and its final mode before the
/// first byte is written (whatever the umask), synced, and then renamed over the target. Tokens, userdata, host
/// keys and data values are all written with mode 0600 this way.
public enum AtomicFile {
    /// Writes `data` to `url` with permissions `mode`, creating missing parent folders (mode `folderMode`).
    public static func write(_ data: Data, to url: URL, mode: mode_t = 0o644, folderMode: mode_t = 0o755) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(
            at: folder,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: NSNumber(value: folderMode)]
        )
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        try create(temporary, with: data, mode: mode)
        guard rename(temporary.path, url.path) == 0 else {
            let error = POSIXError.current
            unlink(temporary.path)
            throw error
        }
    }

    /// Writes `text` as UTF-8 to `path` readable and writable by its owner only (0600), in a folder of mode 0700.
    public static func writeSecret(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: URL(fileURLWithPath: path), mode: 0o600, folderMode: 0o700)
    }

    /// Creates a new file (failing if it exists) with exactly `mode` from the first byte on, and writes `data`.
    public static func create(_ url: URL, with data: Data, mode: mode_t) throws {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw POSIXError.current }
        defer { close(descriptor) }
        // The umask may have narrowed the mode given to open.
        guard fchmod(descriptor, mode) == 0 else { throw POSIXError.current }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        try handle.write(contentsOf: data)
        try handle.synchronize()
    }
}

extension POSIXError {
    /// The error `errno` holds now.
    public static var current: POSIXError { POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
}
