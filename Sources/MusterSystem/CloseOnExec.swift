import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps this process's network sockets out of processes it starts without meaning to hand them over.
///
/// SwiftNIO opens its sockets without close-on-exec; a process started by other means than swift-subprocess
/// (which closes what it does not pass) — the runtime's crash backtracer, a library's helper — would inherit the
/// broker's listening socket and keep its port taken after the broker is gone.
///
/// Only internet sockets are marked. Other descriptors may belong to another thread that is about to start a
/// process and hand them over on purpose: Foundation's `Process` gives each child one end of a Unix socket pair
/// and reads its closing as the child's exit. Marked close-on-exec in between, that end never reached the child,
/// `Process` took the child for ended at once and blocked its one monitoring thread waiting for it (a broker
/// started inside a process that runs others, as the tests do, hung every `Process` there).
public enum CloseOnExec {
    /// Marks every open IPv4 and IPv6 socket above standard error close-on-exec.
    public static func markInternetSockets() {
        #if os(Linux)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for entry in entries {
            guard let descriptor = Int32(entry), descriptor > 2, isInternetSocket(descriptor) else { continue }
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
        #endif
    }

    /// Whether `descriptor` is an IPv4 or IPv6 socket.
    public static func isInternetSocket(_ descriptor: Int32) -> Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) == 0 }
        }
        let family = Int32(address.ss_family)
        return named && (family == AF_INET || family == AF_INET6)
    }
}
