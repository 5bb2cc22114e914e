import Foundation
import MusterSystem
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a broker marks close-on-exec when it starts listening: its internet sockets, and nothing that another
/// thread of the same process may be about to hand to a child.
@Suite("Close-on-exec of a broker's sockets")
struct CloseOnExecTests {
    @Test func `internet sockets are marked close-on-exec, a Unix socket pair is left as it is`() throws {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener > 2)
        defer { for descriptor in pair + [listener] { close(descriptor) } }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0)
        #expect(listen(listener, 1) == 0)

        #expect(CloseOnExec.isInternetSocket(listener))
        #expect(!CloseOnExec.isInternetSocket(pair[0]))
        CloseOnExec.markInternetSockets()
        #expect(fcntl(listener, F_GETFD) & FD_CLOEXEC != 0, "the listening socket does not reach children")
        for end in pair {
            #expect(fcntl(end, F_GETFD) & FD_CLOEXEC == 0, "a socket pair another thread may hand to a child keeps its flags")
        }
    }
}
