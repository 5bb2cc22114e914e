import Foundation
import MusterSystem
import Testing

/// `muster broker` as a child process (the built binary), for attacks whose effect is measured on the broker's
/// own process: its open-files limit, its resident memory.
final class BrokerChild: Sendable {
    let process: Process
    let url: URL
    let token: String
    let folder: String

    /// The folder holding the built products (the test bundle sits next to them).
    static let productsFolder: URL = {
        var folder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/" && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("muster").path) {
            folder.deleteLastPathComponent()
        }
        return folder
    }()

    /// Starts `muster broker` on a free port with a fresh state folder; with `openFiles`, under `ulimit -n` of that
    /// many (soft and hard: the broker cannot raise it).
    /// `token` and `listen` default to a fresh operator token and a free port.
    static func start(
        openFiles: Int? = nil,
        token given: String? = nil,
        listen: String = "127.0.0.1:0",
        arguments: [String] = []
    ) async throws
        -> BrokerChild
    {
        let muster = productsFolder.appendingPathComponent("muster").path
        guard FileManager.default.isExecutableFile(atPath: muster) else { throw TestFailure("no built muster at \(muster): run swift build first") }
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-child-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let token = given ?? "mst_op_child-\(UUID().uuidString)"
        let tokenFile = folder + "/token"
        try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let limit = openFiles.map { "ulimit -n \($0) || exit 99; " } ?? ""
        process.arguments =
            [
                "-c", limit + "exec \"$0\" \"$@\"", muster, "broker", "--listen", listen, "--state", folder + "/state", "--token-file",
                tokenFile,
                "--log-level", "warning",
            ] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let url: URL? = await withCheckedContinuation { continuation in
            Thread {
                var text = ""
                let handle = pipe.fileHandleForReading
                while true {
                    guard let data = try? handle.readChunk(), !data.isEmpty else { break }
                    text += String(decoding: data, as: UTF8.self)
                    if let range = text.range(of: "listening on "), let end = text[range.upperBound...].firstIndex(where: { $0 == " " || $0 == "\n" })
                    {
                        continuation.resume(returning: URL(string: String(text[range.upperBound..<end])))
                        return
                    }
                }
                continuation.resume(returning: nil)
            }.start()
        }
        guard let url else {
            process.terminate()
            throw TestFailure("the broker did not start")
        }
        return BrokerChild(process: process, url: url, token: token, folder: folder)
    }

    private init(process: Process, url: URL, token: String, folder: String) {
        self.process = process
        self.url = url
        self.token = token
        self.folder = folder
    }

    var port: Int { url.port ?? 0 }

    /// One request on a connection of its own (`Connection: close`): the status code, or `nil` when there was no
    /// answer within `timeout`.
    func status(_ path: String, method: String = "GET", token: String? = nil, body: String? = nil, timeout: Duration = .seconds(10)) async -> Int? {
        guard let connection = try? RawConnection(port: port) else { return nil }
        var headers = ["Connection: close"]
        if let body { headers.append("Content-Length: \(body.utf8.count)") }
        guard (try? connection.send(RawConnection.request(path, method: method, token: token, headers: headers) + (body ?? ""))) != nil else {
            return nil
        }
        let (data, _) = await connection.readUntilClosed(timeout: timeout)
        let head = String(decoding: data.prefix(32), as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 "), let code = Int(head.dropFirst(9).prefix(3)) else { return nil }
        return code
    }

    /// One request on a connection of its own: the body of a 2xx answer, or `nil`.
    func reply(_ path: String, method: String = "GET", token: String? = nil, body: String? = nil) async -> Data? {
        guard let connection = try? RawConnection(port: port) else { return nil }
        var headers = ["Connection: close"]
        if let body { headers.append("Content-Length: \(body.utf8.count)") }
        guard (try? connection.send(RawConnection.request(path, method: method, token: token, headers: headers) + (body ?? ""))) != nil else {
            return nil
        }
        let data = await connection.readUntilClosed(timeout: .seconds(30)).data
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 2"), let split = text.range(of: "\r\n\r\n") else { return nil }
        return Data(text[split.upperBound...].utf8)
    }

    /// The broker's resident set (VmRSS), in megabytes.
    var residentMegabytes: Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1_024
    }

    /// Stops the broker (SIGTERM) and waits until it has exited.
    func stop() async {
        process.terminate()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        try? FileManager.default.removeItem(atPath: folder)
    }
}
