import ArgumentParser
import Foundation

/// Where the operator token comes from, in order: a flag, `MUSTER_TOKEN`, the local state folder.
enum OperatorToken {
    /// A token given explicitly to a broker (`--token-file`, then `MUSTER_TOKEN`), or nil.
    static func given(tokenFile: String?) throws(CommandFailure) -> String? {
        if let tokenFile { return try read(tokenFile) }
        if let environment = ProcessInfo.processInfo.environment["MUSTER_TOKEN"], !environment.isEmpty { return environment }
        return nil
    }

    /// Reads a token file (surrounding whitespace ignored).
    static func read(_ path: String) throws(CommandFailure) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "it is not readable" : "no such file"
            throw CommandFailure(ExitCodes.notFound, "cannot read the token file \(path): \(reason)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw CommandFailure(ExitCodes.refused, "the token file \(path) is empty") }
        return token
    }
}
