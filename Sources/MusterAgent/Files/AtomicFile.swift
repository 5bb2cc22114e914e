import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a reader (or an agent restarted after a crash) sees either the old or the new
/// content, never half of it: the bytes go to a temporary file in the same folder, which then replaces the
/// target by `rename`.
enum AtomicFile {
    /// Writes `data` to `url` with permissions `mode`, creating missing parent folders (mode 0755).
    static func write(_ data: Data, to url: URL, mode: mode_t = 0o644) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        try create(temporary, with: data, mode: mode)
        guard rename(temporary.path, url.path) == 0 else {
            let error = POSIXError.current
            unlink(temporary.path)
            throw error
        }
    }

    /// Creates a new file (failing if it exists) with exactly `mode` from the first byte on, and writes `data`.
    static func create(_ url: URL, with data: Data, mode: mode_t) throws {
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
    static var current: POSIXError { POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
}
