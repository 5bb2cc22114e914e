import Foundation
import Synchronization
import Testing

/// A `muster` process that keeps running while the test talks to it: its output is collected as it comes, and
/// the test can await a line instead of sleeping.
final class BackgroundCommand: Sendable {
    let process: Process
    private let output = Mutex<String>("")
    private let waiters = Mutex<[(String, CheckedContinuation<Void, Never>)]>([])

    convenience init(_ arguments: [String], environment: [String: String] = [:]) throws {
        try self.init(
            executable: CommandRunner.productsFolder.appendingPathComponent("muster"),
            arguments: arguments,
            directory: CommandRunner.repository,
            environment: environment
        )
    }

    /// A shell command line run in `directory`, as a person types it (the built `muster` first on `PATH`).
    convenience init(shell command: String, in directory: URL) throws {
        try self.init(
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", command],
            directory: directory,
            environment: [
                "PATH": CommandRunner.productsFolder.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                "MUSTER_BROKER": "", "MUSTER_TOKEN": "",
            ]
        )
    }

    init(executable: URL, arguments: [String], directory: URL, environment: [String: String]) throws {
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else {
                handle.readabilityHandler = nil
                self?.wakeAll()
                return
            }
            self.output.withLock { $0 += String(decoding: data, as: UTF8.self) }
            self.wake()
        }
        try process.run()
    }

    var text: String { output.withLock { $0 } }

    /// Waits until the output contains `fragment` (or the process ends); fails the test after `timeout`.
    func waitFor(_ fragment: String, timeout: Duration = .seconds(300), sourceLocation: SourceLocation = #_sourceLocation) async {
        let found: Bool = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let ready = self.output.withLock { $0.contains(fragment) } || !self.process.isRunning
                    if ready {
                        continuation.resume()
                    } else {
                        self.waiters.withLock { $0.append((fragment, continuation)) }
                        // The output may have arrived between the check and the registration.
                        self.wake()
                    }
                }
                return self.text.contains(fragment)
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            if !first { self.wakeAll() }
            group.cancelAll()
            return first || self.text.contains(fragment)
        }
        #expect(found, "never saw '\(fragment)' in:\n\(text)", sourceLocation: sourceLocation)
    }

    private func wake() {
        let current = text
        let ready = waiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            let matched = waiters.filter { current.contains($0.0) || !process.isRunning }
            waiters.removeAll { current.contains($0.0) || !process.isRunning }
            return matched.map(\.1)
        }
        for continuation in ready { continuation.resume() }
    }

    private func wakeAll() {
        let all = waiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            defer { waiters = [] }
            return waiters.map(\.1)
        }
        for continuation in all { continuation.resume() }
    }

    /// Sends a signal and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGINT) async -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }

    /// Waits for the process to end by itself.
    func wait() async -> Int32 {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }
}

/// Processes on this machine whose command line mentions `fragment` (to find agents of one test's work folder).
func processes(mentioning fragment: String) -> [pid_t] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    var found: [pid_t] = []
    for entry in entries {
        guard let pid = pid_t(entry), pid != getpid(),
            let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
            String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(fragment)
        else { continue }
        if let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")"),
            stat[stat.index(after: close)...].split(separator: " ").first == "Z"
        {
            continue
        }
        found.append(pid)
    }
    return found
}

/// A fresh work folder for one test.
func workFolder(_ name: String) -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-e2e-\(name)-\(UUID().uuidString.prefix(8))").path
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}
