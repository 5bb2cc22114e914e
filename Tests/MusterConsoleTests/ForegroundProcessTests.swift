import Foundation
import Testing

@testable import MusterConsole

#if canImport(Glibc)
import Glibc
#endif

/// What a program the operator runs from the console (a shell on a node, an editor) gets of the console's own
/// descriptors: nothing beyond the terminal's three streams.
@Suite("Programs run in the foreground")
struct ForegroundProcessTests {
    @Test func `a descriptor the console holds without close-on-exec does not reach the program`() throws {
        let descriptor = open("/dev/null", O_RDONLY)
        try #require(descriptor > 2)
        defer { close(descriptor) }
        #expect(fcntl(descriptor, F_GETFD) & FD_CLOEXEC == 0, "the descriptor would be inherited by a plain exec")
        let probe = "[ -e /proc/self/fd/\(descriptor) ] && exit 7; [ -e /proc/self/fd/2 ] || exit 8; exit 0"
        let command = ForegroundCommand(arguments: ["/bin/sh", "-c", probe], environment: [:], title: "probe")
        #expect(try ForegroundProcess.run(command).get() == 0)
    }

    @Test func `the exit status and a folder to start in are kept`() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-fg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let command = ForegroundCommand(
            arguments: ["/bin/sh", "-c", "[ \"$(pwd -P)\" = \"$1\" ] && exit 3; exit 4", "sh", (folder as NSString).resolvingSymlinksInPath],
            environment: [:],
            directory: folder,
            title: "probe"
        )
        #expect(try ForegroundProcess.run(command).get() == 3)
    }
}
