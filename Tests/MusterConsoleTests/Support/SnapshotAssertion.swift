import Foundation
import Testing

/// Compares text with a file under `Snapshots/`; with `MUSTER_RECORD_SNAPSHOTS=1` writes the file instead.
enum SnapshotAssertion {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Snapshots")

    static var isRecording: Bool { ProcessInfo.processInfo.environment["MUSTER_RECORD_SNAPSHOTS"] == "1" }

    static func assert(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = folder.appendingPathComponent(name)
        if isRecording {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try actual.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
            Issue.record("no snapshot \(name); run with MUSTER_RECORD_SNAPSHOTS=1 to record it", sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            Issue.record("snapshot \(name) differs:\n\(diff(expected, actual))", sourceLocation: sourceLocation)
        }
    }

    /// The differing lines, numbered, `-` expected and `+` actual.
    static func diff(_ expected: String, _ actual: String) -> String {
        let old = expected.components(separatedBy: "\n")
        let new = actual.components(separatedBy: "\n")
        var lines: [String] = []
        for index in 0..<max(old.count, new.count) {
            let before = index < old.count ? old[index] : "∅"
            let after = index < new.count ? new[index] : "∅"
            if before != after {
                lines.append(String(format: "%4d - %@", index + 1, before))
                lines.append(String(format: "%4d + %@", index + 1, after))
            }
        }
        return lines.prefix(40).joined(separator: "\n")
    }
}
