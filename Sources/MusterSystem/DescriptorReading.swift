import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocking reads from a pipe or file that survive signals.
///
/// Foundation's `FileHandle.readDataToEndOfFile()` and `availableData` end the process (`try!`) when a read is
/// interrupted by a signal (`EINTR`), which a process that starts children and handles signals sees sooner or later.
/// These read with `read(2)` and try again when interrupted.
extension FileHandle {
    /// Waits for bytes and returns what one read gives (at most `maximum`); empty once the writer has closed.
    public func readChunk(maximum: Int = 65_536) throws(DescriptorReadError) -> Data {
        var buffer = [UInt8](repeating: 0, count: maximum)
        while true {
            let count = buffer.withUnsafeMutableBytes { systemRead(fileDescriptor, $0.baseAddress, maximum) }
            if count >= 0 { return Data(buffer[0..<count]) }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                // A non-blocking descriptor: wait until it is readable rather than spin.
                var entry = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
                _ = poll(&entry, 1, -1)
                continue
            }
            throw DescriptorReadError(code: code)
        }
    }

    /// Reads until the writer closes and returns every byte.
    public func readUntilClosed() throws(DescriptorReadError) -> Data {
        var data = Data()
        while true {
            let chunk = try readChunk()
            if chunk.isEmpty { return data }
            data.append(chunk)
        }
    }
}

#if canImport(Glibc)
private let systemRead = Glibc.read
#elseif canImport(Musl)
private let systemRead = Musl.read
#elseif canImport(Darwin)
private let systemRead = Darwin.read
#endif

/// A read from a descriptor failed for another reason than a signal.
public struct DescriptorReadError: Error, Sendable, CustomStringConvertible {
    /// The `errno` value.
    public var code: Int32
    public var description: String { "read failed: \(String(cString: strerror(code))) (errno \(code))" }
}
