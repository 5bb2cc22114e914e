import Foundation

/// Writes files that hold secrets (private keys): created mode 0600 with `O_EXCL` before a byte is written, so
/// there is never a moment when another user could open them, and never an existing file (or a link planted
/// in its place) that is written through.
enum SecretFile {
    /// Writes `text` to a new file at `path`; fails if anything exists there.
    static func create(_ path: String, contents text: String) throws(CertificateAuthorityError) {
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw CertificateAuthorityError(.storage, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard result > 0 else {
                throw CertificateAuthorityError(.storage, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            throw CertificateAuthorityError(.storage, "cannot sync \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Replaces the file at `path` with a new secret file: written beside it under a temporary name (created
    /// as ``create(_:contents:)`` does), then renamed over it.
    static func replace(_ path: String, contents text: String) throws(CertificateAuthorityError) {
        let temporary = path + ".new"
        unlink(temporary)
        try create(temporary, contents: text)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CertificateAuthorityError(.storage, "cannot replace \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes a public file (a certificate) by writing beside it and renaming, so readers never see half of it.
    static func replacePublic(_ path: String, contents text: String) throws(CertificateAuthorityError) {
        let temporary = path + ".new"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw CertificateAuthorityError(.storage, "cannot write \(temporary): \(error)")
        }
        guard rename(temporary, path) == 0 else {
            throw CertificateAuthorityError(.storage, "cannot replace \(path): \(String(cString: strerror(errno)))")
        }
    }
}
