import Foundation
import MusterCore
import MusterSystem

/// A cluster document file read from disk and checked.
struct DocumentFile {
    /// The path as the user gave it (used in diagnostics, like a compiler does).
    var path: String
    /// The file's bytes.
    var bytes: [UInt8]
    /// What checking found.
    var check: ClusterDocumentCheck

    /// Why a file could not be read.
    struct ReadError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "error: cannot read \(path): \(reason)" }
    }

    /// Reads and checks a file (`-` reads standard input).
    static func load(_ path: String) throws(ReadError) -> DocumentFile {
        let data: Data
        do {
            if path == "-" {
                data = try FileHandle.standardInput.readUntilClosed()
                if data.count > ClusterDocumentParser.maximumSize {
                    throw ReadError(path: path, reason: "larger than \(ClusterDocumentParser.maximumSize) bytes")
                }
            } else {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                    throw ReadError(path: path, reason: "no such file")
                }
                if isDirectory.boolValue { throw ReadError(path: path, reason: "it is a directory") }
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                    let size = attributes[.size] as? Int, size <= ClusterDocumentParser.maximumSize
                else {
                    throw ReadError(path: path, reason: "larger than \(ClusterDocumentParser.maximumSize) bytes")
                }
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            }
        } catch let error as ReadError {
            throw error
        } catch let error as DescriptorReadError {
            throw ReadError(path: path, reason: error.description)
        } catch {
            throw ReadError(path: path, reason: (error as NSError).localizedDescription)
        }
        let bytes = [UInt8](data)
        return DocumentFile(path: path == "-" ? "<stdin>" : path, bytes: bytes, check: ClusterDocumentParser.parse(bytes))
    }

    /// The diagnostics formatted like a compiler's, each followed by its source line and a caret.
    func renderedDiagnostics(color: Bool) -> String {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var output: [String] = []
        for diagnostic in check.diagnostics {
            var head = diagnostic.formatted(file: path)
            if color {
                let tint = diagnostic.severity == .error ? "\u{1B}[1;31m" : diagnostic.severity == .warning ? "\u{1B}[1;35m" : "\u{1B}[1;36m"
                let label = "\(diagnostic.severity.rawValue):"
                head = head.replacingOccurrences(of: " \(label) ", with: " \(tint)\(label)\u{1B}[0m ")
            }
            output.append(head)
            let lineIndex = diagnostic.location.line - 1
            if lines.indices.contains(lineIndex) {
                let source = String(lines[lineIndex]).replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\r", with: "")
                if source.count <= 200 {
                    output.append("    " + source)
                    output.append("    " + String(repeating: " ", count: max(0, diagnostic.location.column - 1)) + "^")
                }
            }
        }
        return output.joined(separator: "\n")
    }
}
