import Foundation
import MusterSystem

/// Many idle TCP connections to a broker, held by a `python3` child process rather than by the test process.
///
/// Thousands of descriptors in the test process would trip a bug of Foundation's `Process.run()` on Linux (it copies
/// a whole `d_name` out of the last entry of a full `/proc/self/fd` listing and reads past its buffer), crashing
/// whichever test starts a process meanwhile. The child opens connections in rounds when told to, and reports how
/// many the broker has not closed yet.
final class IdleConnections: @unchecked Sendable {
    private let process = Process()
    private let commands = Pipe()
    private let replies = Pipe()
    private var pending = Data()

    static let script = """
        import resource, socket, sys, time, select
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        port = int(sys.argv[1])
        held = []
        for line in sys.stdin:
            command = line.split()
            if command[0] == "open":
                for _ in range(int(command[1])):
                    held.append(socket.create_connection(("127.0.0.1", port)))
                print("opened", len(held), flush=True)
            elif command[0] == "count":
                poller = select.poll()
                for connection in held:
                    poller.register(connection, select.POLLIN | select.POLLHUP | select.POLLERR)
                closed = set()
                for fd, events in poller.poll(0):
                    connection = next(c for c in held if c.fileno() == fd)
                    try:
                        data = connection.recv(1)
                    except OSError:
                        data = b""
                    if data == b"":
                        closed.add(fd)
                for connection in [c for c in held if c.fileno() in closed]:
                    held.remove(connection)
                    connection.close()
                print("open", len(held), flush=True)
        """

    init(port: Int) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, String(port)]
        process.standardInput = commands
        process.standardOutput = replies
        process.standardError = FileHandle.standardError
        try process.run()
    }

    deinit {
        try? commands.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// Opens `count` more idle connections; returns how many are held.
    func open(_ count: Int) async throws -> Int { try await ask("open \(count)", answer: "opened") }

    /// How many held connections the broker has not closed.
    func stillOpen() async throws -> Int { try await ask("count", answer: "open") }

    private func ask(_ command: String, answer: String) async throws -> Int {
        try commands.fileHandleForWriting.write(contentsOf: Data((command + "\n").utf8))
        let line = try await nextLine()
        let words = line.split(separator: " ")
        guard words.count == 2, words[0] == answer, let number = Int(words[1]) else {
            throw TestFailure("the idle-connections child said '\(line)' to '\(command)'")
        }
        return number
    }

    private func nextLine() async throws -> String {
        let handle = replies.fileHandleForReading
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            let chunk = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Data, any Error>) in
                Thread {
                    do { continuation.resume(returning: try handle.readChunk()) } catch { continuation.resume(throwing: error) }
                }.start()
            }
            guard !chunk.isEmpty else { throw TestFailure("the idle-connections child ended") }
            pending.append(chunk)
        }
    }
}
