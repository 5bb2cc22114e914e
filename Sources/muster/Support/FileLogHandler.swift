import Foundation
import Logging
import Synchronization

/// A swift-log handler that appends lines to a file: the console and `muster up` log there, never to the screen.
struct FileLogHandler: LogHandler {
    /// The open file, shared by every logger that writes to it.
    final class Sink: Sendable {
        private let handle: Mutex<FileHandle>

        /// Why the file could not be opened, as `strerror` says it.
        struct OpenFailure: LocalizedError {
            var reason: String
            var errorDescription: String? { reason }
        }

        /// Opens `path` for appending, creating it readable by its owner only. The descriptor is close-on-exec:
        /// a process the console or `muster up` starts (a node, a shell) does not inherit the log.
        init(path: String) throws {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw OpenFailure(reason: String(cString: strerror(errno))) }
            self.handle = Mutex(FileHandle(fileDescriptor: descriptor, closeOnDealloc: true))
        }

        func write(_ line: String) {
            handle.withLock { $0.write(Data((line + "\n").utf8)) }
        }
    }

    let label: String
    let sink: Sink
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    init(label: String, sink: Sink) {
        self.label = label
        self.sink = sink
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        sink.write("\(Date().formatted(.iso8601)) \(event.level) \(label): \(event.message)\(fields)")
    }
}
