import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps this process's descriptors out of processes it starts without meaning to hand them over.
///
/// SwiftNIO opens its sockets without close-on-exec; a process started by other means than swift-subprocess
/// (which closes what it does not pass) — the runtime's crash backtracer, a library's helper — would inherit the
/// broker's listening socket and keep its port taken after the broker is gone.
public enum CloseOnExec {
    /// Marks every open descriptor above standard error close-on-exec.
    public static func markAllOpenDescriptors() {
        #if os(Linux)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for entry in entries {
            guard let descriptor = Int32(entry), descriptor > 2 else { continue }
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
        #endif
    }
}
