import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The command line that runs a script file.
///
/// An executable script runs as it is (its `#!` line picks the interpreter). Nimbus required scripts to be
/// executable; Muster also runs a script that lost its execute bit (copied from an archive or a mail), the
/// way the kernel would have: through the interpreter its `#!` line names, or `/bin/sh` without one, and it
/// says so in the output.
struct ScriptCommand: Hashable {
    /// The program to start.
    var executable: String
    /// Its arguments.
    var arguments: [String]
    /// A note for the output when the script is not run directly.
    var note: String?

    init(script: URL, arguments: [String]) {
        let path = script.path
        guard access(path, X_OK) != 0 else {
            self.init(executable: path, arguments: arguments, note: nil)
            return
        }
        if let (interpreter, option) = Self.shebang(of: script) {
            self.init(
                executable: interpreter,
                arguments: (option.map { [$0] } ?? []) + [path] + arguments,
                note: "\(script.lastPathComponent) is not executable; running it with \(interpreter)"
            )
        } else {
            self.init(
                executable: "/bin/sh",
                arguments: [path] + arguments,
                note: "\(script.lastPathComponent) is not executable; running it with /bin/sh"
            )
        }
    }

    private init(executable: String, arguments: [String], note: String?) {
        self.executable = executable
        self.arguments = arguments
        self.note = note
    }

    /// The interpreter and its optional single argument from a `#!` first line, as the kernel reads it.
    static func shebang(of script: URL) -> (String, String?)? {
        guard let handle = try? FileHandle(forReadingFrom: script) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 256), head.starts(with: Array("#!".utf8)) else { return nil }
        let firstLine = head.dropFirst(2).prefix { $0 != UInt8(ascii: "\n") }
        let text = String(decoding: firstLine, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        guard let interpreterEnd = text.firstIndex(where: \.isWhitespace) else { return text.isEmpty ? nil : (text, nil) }
        let option = text[interpreterEnd...].trimmingCharacters(in: .whitespaces)
        return (String(text[..<interpreterEnd]), option.isEmpty ? nil : option)
    }
}
