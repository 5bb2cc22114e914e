import Foundation
import MusterSystem
import Testing

/// Runs the built `muster` binary like a person would, capturing its output and exit status.
struct CommandRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The folder holding the built products (the test bundle sits next to them).
    static let productsFolder: URL = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        while folder.path != "/" && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("muster").path) {
            folder.deleteLastPathComponent()
        }
        return folder
    }()

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `muster` on a thread of its own, so that a long command never blocks the few threads that every
    /// concurrently running test shares.
    static func muster(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try run(arguments, stdin: stdin, environment: environment))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    /// Runs a command line with a shell in `folder`, as a person types it: the built `muster` first on `PATH`, no
    /// `MUSTER_*` settings from the test's environment.
    static func shell(_ command: String, in folder: URL, shell: String = "/bin/sh") async throws -> Result {
        let path = productsFolder.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(
                        returning: try run(
                            ["-c", command],
                            executable: URL(fileURLWithPath: shell),
                            directory: folder,
                            stdin: nil,
                            environment: ["PATH": path, "MUSTER_BROKER": "", "MUSTER_TOKEN": ""]
                        )
                    )
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    /// Runs `executable` (the built `muster` unless given) and waits for it, on the calling thread.
    static func run(
        _ arguments: [String],
        executable: URL = productsFolder.appendingPathComponent("muster"),
        directory: URL = repository,
        stdin: String?,
        environment: [String: String]
    ) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        // Standard error goes to a file so that neither stream can fill up and block the child.
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("muster-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let errorHandle = try FileHandle(forWritingTo: errorFile)
        let out = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = errorHandle
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdoutData = try out.fileHandleForReading.readUntilClosed()
        process.waitUntilExit()
        try errorHandle.close()
        let stderrData = try Data(contentsOf: errorFile)
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self)
        )
    }

    /// Writes `text` to a new file in a fresh temporary folder and returns its path.
    static func temporaryFile(named name: String, _ text: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file.path
    }
}
