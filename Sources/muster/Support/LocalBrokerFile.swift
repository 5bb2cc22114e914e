import Foundation

/// `<state>/broker.json`: where a broker on this machine listens, so that `muster status` and friends find it
/// without flags. Written when the broker starts listening, removed when it stops.
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
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: Self.path(in: folder)))
    }

    static func remove(from folder: String) {
        try? FileManager.default.removeItem(atPath: path(in: folder))
    }
}
