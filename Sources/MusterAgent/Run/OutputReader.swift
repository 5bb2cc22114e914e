import Foundation
import MusterCore
import MusterSystem
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a script's standard output and standard error with one reader, so that their lines keep the order in
/// which the script wrote them.
///
/// Two readers (one per pipe) deliver each stream in order, but interleave them by whichever was scheduled
/// first: a line written to stderr after a line on stdout could arrive before it. This reader waits on both
/// pipes at once (`poll`) on a thread of its own and reads whichever has data the moment it has some, so lines
/// come out as they were written, each marked with its stream.
///
/// It stops at the end of both pipes, or — when a process the script left running in the background still
/// holds them — once the script itself has exited and what was already written has been read.
final class OutputReader: Sendable {
    private let output: Int32
    private let error: Int32
    private let maximumLineBytes: Int
    /// The script's process id, once spawned (its exit, not the pipes' end, decides when to stop reading).
    private let leader = Mutex<pid_t?>(nil)
    private let abandoned = Mutex(false)
    private let done = Mutex<(finished: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    /// Starts reading at once, on a thread of its own, before the script is even spawned: no line waits for a
    /// busy task pool. Each line goes to `sink` as soon as it is complete. The reader closes both descriptors.
    init(output: Int32, error: Int32, maximumLineBytes: Int, into sink: AsyncStream<ScriptOutputLine>.Continuation) {
        self.output = output
        self.error = error
        self.maximumLineBytes = maximumLineBytes
        let thread = Thread { [self] in
            read(into: sink)
            let waiter = done.withLock { state in
                state.finished = true
                return state.waiter
            }
            waiter?.resume()
        }
        thread.name = "muster-script-output"
        thread.start()
    }

    /// The script never started: stop reading (within one poll interval) and close the pipes.
    func abandon() {
        abandoned.withLock { $0 = true }
    }

    /// Tells the reader which process wrote into the pipes.
    func spawned(_ pid: pid_t) {
        leader.withLock { $0 = pid }
    }

    /// Returns once both pipes are read to their end (or the script exited and what it wrote was read).
    func finished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = done.withLock { state in
                if !state.finished { state.waiter = continuation }
                return state.finished
            }
            if finished { continuation.resume() }
        }
    }

    private func read(into sink: AsyncStream<ScriptOutputLine>.Continuation) {
        var streams = [
            Stream(descriptor: output, kind: .stdout, splitter: LineSplitter(maximumLineBytes: maximumLineBytes)),
            Stream(descriptor: error, kind: .stderr, splitter: LineSplitter(maximumLineBytes: maximumLineBytes)),
        ]
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        // Once the script has exited, only what is already in the pipes is read (at most this much more).
        var leaderExited = false
        var drainBudget = 1 << 20
        let clock = ContinuousClock()
        var lastCheck = clock.now
        while streams.contains(where: \.isOpen) && drainBudget > 0 {
            var polled = streams.filter(\.isOpen).map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polled, nfds_t(polled.count), leaderExited ? 0 : 100)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 && leaderExited { break }
            if ready <= 0 || clock.now - lastCheck > .milliseconds(100) {
                // A background process may hold the pipes open after the script ended: the script's exit decides.
                lastCheck = clock.now
                if abandoned.withLock({ $0 }) { break }
                if !leaderExited, let leader = leader.withLock({ $0 }), !ProcessGroup.isAlive(leader) { leaderExited = true }
                if ready <= 0 { continue }
            }
            for entry in polled where entry.revents != 0 {
                guard let index = streams.firstIndex(where: { $0.descriptor == entry.fd }) else { continue }
                let count = buffer.withUnsafeMutableBytes { Glibc.read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if leaderExited { drainBudget -= count }
                    let lines = buffer.withUnsafeBytes { streams[index].splitter.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                    for line in lines { sink.yield(ScriptOutputLine(stream: streams[index].kind, text: line)) }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    if count < 0 {
                        sink.yield(
                            ScriptOutputLine(
                                stream: .agent,
                                text: "reading \(streams[index].kind.rawValue) failed: \(String(cString: strerror(errno)))"
                            )
                        )
                    }
                    streams[index].isOpen = false
                }
            }
        }
        for index in streams.indices {
            if let last = streams[index].splitter.finish() { sink.yield(ScriptOutputLine(stream: streams[index].kind, text: last)) }
            close(streams[index].descriptor)
        }
    }

    private struct Stream {
        var descriptor: Int32
        var kind: MusterCore.OutputStream
        var splitter: LineSplitter
        var isOpen = true
    }
}
