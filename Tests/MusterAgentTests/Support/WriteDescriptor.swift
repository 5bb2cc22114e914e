import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A file held open for writing, close-on-exec: it makes the file busy (ETXTBSY) for exec in this process only,
/// never in a process that another test starts while it is open.
struct WriteDescriptor: Sendable {
    let descriptor: Int32

    /// Opens `file` for writing; nil when it cannot be opened.
    init?(_ file: URL) {
        descriptor = open(file.path, O_WRONLY | O_CLOEXEC)
        if descriptor < 0 { return nil }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}
