import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a broker, for attacks no HTTP client makes: connecting and sending nothing, sending
/// a request and never reading the answer. Blocking calls run on a thread of their own, never on the few threads
/// concurrent tests share.
final class RawConnection: @unchecked Sendable {
    let descriptor: Int32

    /// Connects to `port` on 127.0.0.1; a small receive buffer makes a reader that never reads fall behind soon.
    init(port: Int, receiveBuffer: Int32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TestFailure("connect: \(reason)")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Closes both directions now (the descriptor stays allocated until this object goes).
    func shutdown() { _ = Glibc.shutdown(descriptor, Int32(SHUT_RDWR)) }

    /// Sends all of `text`.
    func send(_ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestFailure("send: \(String(cString: strerror(errno)))") }
            bytes = bytes.dropFirst(sent)
        }
    }

    /// Reads until the peer closes the connection (or `timeout` passes), on a thread of its own; returns what
    /// was read and whether the peer closed it.
    func readUntilClosed(timeout: Duration) async -> (data: [UInt8], closed: Bool) {
        let descriptor = descriptor
        return await withCheckedContinuation { continuation in
            Thread {
                let deadline = ContinuousClock.now + timeout
                var data: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while ContinuousClock.now < deadline {
                    var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    let ready = poll(&poller, 1, 100)
                    if ready <= 0 { continue }
                    let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                    if count <= 0 {
                        continuation.resume(returning: (data, true))
                        return
                    }
                    data += buffer[0..<count]
                }
                continuation.resume(returning: (data, false))
            }.start()
        }
    }

    /// Whether the peer has closed the connection, without waiting (data waiting to be read is discarded).
    var isClosedByPeer: Bool {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 0) > 0 else { return false }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count <= 0 { return true }
        }
    }

    /// A request head for `path` with an optional bearer token and extra headers.
    static func request(_ path: String, method: String = "GET", token: String? = nil, headers: [String] = []) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let token { text += "Authorization: Bearer \(token)\r\n" }
        for header in headers { text += header + "\r\n" }
        return text + "\r\n"
    }
}

/// Raises this process's open-files limit to its hard limit (tests that hold thousands of sockets).
func raiseOpenFilesLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
