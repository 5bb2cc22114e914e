import Foundation
import MusterSystem
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The tests' own PostgreSQL server, as a neighbour of every other test in the process.
@Suite("A throwaway PostgreSQL server")
struct ThrowawayPostgresTests {
    /// A server outlives the call that starts it: a descriptor it inherited stays open as long as it runs. A script
    /// file another test was writing at that moment then could not be run (ETXTBSY) until the server stopped.
    @Test func `the server inherits no descriptor of the process that starts it`() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("muster-inherit-\(UUID().uuidString)").path
        let descriptor = open(path, O_WRONLY | O_CREAT, 0o600)
        try #require(descriptor > 2)
        defer {
            close(descriptor)
            unlink(path)
        }
        #expect(fcntl(descriptor, F_GETFD) & FD_CLOEXEC == 0, "the descriptor would be inherited by a plain exec")
        try await ThrowawayPostgres.with { server in
            let pid = try #require(server.postmasterPID)
            let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
            #expect(entries.count >= 3, "the server's descriptors are readable")
            let targets = entries.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") }
            #expect(!targets.contains(path), "the server holds \(path) open")
        }
    }
}
