import Foundation
import Synchronization

/// The built `muster` as a child process: its output collected as it comes, so a test can await a line.
final class MusterCommand: Sendable {
    let process: Process
    private let output = Mutex("")

    init(_ arguments: [String], environment: [String: String], directory: String) throws {
        process = Process()
        process.executableURL = EC2Broker.productsFolder.appendingPathComponent("muster")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") && !$0.key.hasPrefix("MUSTER_") }
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            self?.output.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    var text: String { output.withLock { $0 } }

    /// Waits until the output contains `fragment`; fails when the process ends first or `timeout` passes.
    func waitFor(_ fragment: String, timeout: Duration = .seconds(180)) async throws {
        try await eventually("`muster` printed '\(fragment)'", timeout: timeout) {
            if text.contains(fragment) { return true }
            if !process.isRunning {
                try await Task.sleep(for: .milliseconds(200))
                if text.contains(fragment) { return true }
                throw TestFailure("muster ended (status \(process.terminationStatus)) without printing '\(fragment)':\n\(text)")
            }
            return false
        }
    }

    /// The context id from `muster up`'s first line ("… → context ID (N nodes) …").
    func contextID() async throws -> String {
        try await waitFor(" → context ")
        let line = text.split(separator: "\n").first { $0.contains(" → context ") } ?? ""
        guard let id = line.components(separatedBy: " → context ").last?.split(separator: " ").first else {
            throw TestFailure("no context id in: \(line)")
        }
        return String(id)
    }

    /// Waits for the process to end; its exit status.
    func wait(timeout: Duration = .seconds(180)) async throws -> Int32 {
        try await eventually("muster ended", timeout: timeout) { !process.isRunning }
        return process.terminationStatus
    }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }
}
