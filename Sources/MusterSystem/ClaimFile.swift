import Foundation

/// A name claimed machine-wide by every process that uses the same folder: a file created exclusively, holding the
/// claiming process id, so that the claim of a process that died can be taken over.
public enum ClaimFile {
    /// Claims `path` for this process. A claim held by a process that is gone is taken over when `mayTakeOver`
    /// agrees (for instance, when nothing still uses what was claimed).
    public static func claim(_ path: String, mayTakeOver: () -> Bool = { true }) -> Bool {
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
        if descriptor >= 0 {
            let text = "\(getpid())\n"
            _ = text.withCString { write(descriptor, $0, strlen($0)) }
            close(descriptor)
            return true
        }
        guard let owner = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap({ pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
            owner > 0, kill(owner, 0) != 0, errno == ESRCH, mayTakeOver()
        else { return false }
        try? FileManager.default.removeItem(atPath: path)
        return claim(path, mayTakeOver: mayTakeOver)
    }
}
