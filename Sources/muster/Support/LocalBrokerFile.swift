import Foundation
import MusterSystem

/// `<state>/broker.json`: where a broker on this machine listens, so that `muster status` and friends find it
/// without flags. Written when the broker starts listening, removed when it stops — by the broker that wrote
/// it only, never by another one.
struct LocalBrokerFile: Codable {
    /// The broker's URL.
    var url: String
    /// The broker's process id.
    var pid: Int32

    static func path(in folder: String) -> String { (folder as NSString).appendingPathComponent("broker.json") }

    static func read(from folder: String) -> LocalBrokerFile? {
        guard let data = FileManager.default.contents(atPath: path(in: folder)) else { return nil }
        return try? JSONDecoder().decode(LocalBrokerFile.self, from: data)
    }

    func write(to folder: String) throws {
        try AtomicFile.write(try JSONEncoder().encode(self), to: URL(fileURLWithPath: Self.path(in: folder)), mode: 0o644, folderMode: 0o700)
    }

    /// Removes the file if this process wrote it.
    static func removeOwn(from folder: String) {
        guard let file = read(from: folder), file.pid == getpid() else { return }
        try? FileManager.default.removeItem(atPath: path(in: folder))
    }
}
