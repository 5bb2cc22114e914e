import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Ties the life of child processes to this one, however this one ends — a clean exit, a crash, `kill -9`.
///
/// A pipe whose write end only this process holds: children get the read end as their standard input and watch
/// it (``waitUntilCut(fileDescriptor:)``). The kernel closes the write end when this process ends, for any
/// reason, so the children then read end-of-file and can stop what they started. Both ends are close-on-exec:
/// no other child inherits the write end (which would keep the line alive), and only the children this process
/// hands the read end to explicitly (as their standard input) hold it.
public final class Lifeline: Sendable {
    /// The end children watch; pass it as a child's standard input.
    public let childEnd: Int32
    private let parentEnd: Int32

    /// Opens a new lifeline.
    ///
    /// - Throws: ``LifelineError`` when the system has no descriptors left.
    public init() throws(LifelineError) {
        var ends: [Int32] = [-1, -1]
        // pipe2 is not visible to Swift here; the ends are marked at once, and swift-subprocess closes every
        // descriptor a child is not given anyway, so no child can catch the write end in between.
        guard pipe(&ends) == 0 else {
            throw LifelineError(message: "cannot create a pipe for the lifeline: \(String(cString: strerror(errno)))")
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        childEnd = ends[0]
        parentEnd = ends[1]
    }

    deinit {
        close(childEnd)
        close(parentEnd)
    }

    /// Returns when the lifeline is cut: end-of-file (or an error other than an interruption) on
    /// `fileDescriptor`, which a child was given by its parent as a ``Lifeline/childEnd``.
    ///
    /// The wait runs on a thread of its own (a blocking read), never on the caller's executor.
    public static func waitUntilCut(fileDescriptor: Int32) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                var byte: UInt8 = 0
                while true {
                    let count = read(fileDescriptor, &byte, 1)
                    if count == 0 { break }
                    if count < 0 && errno != EINTR && errno != EAGAIN { break }
                }
                continuation.resume()
            }
            thread.name = "muster-lifeline"
            thread.start()
        }
    }
}

/// Why a ``Lifeline`` could not be made.
public struct LifelineError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    public var description: String { message }
}
