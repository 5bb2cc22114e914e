import Foundation

/// Reads userdata from a file, the way a launcher leaves it for the agent (the local backend writes it into
/// the node root; a cloud image may have it dropped in place by its init system).
public enum UserdataFile {
    /// The file's bytes, or `nil` when there is no such file (that is "no userdata", not an error).
    ///
    /// - Throws: ``AgentError/input(_:)`` (code 1) when the file exists but cannot be read.
    public static func read(_ url: URL) throws(AgentError) -> Data? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw .input("cannot read userdata \(url.path): \(error.localizedDescription)")
        }
    }
}
