import Foundation
import Logging
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs the AWS CLI (`aws … --output json`) and decodes its answers, so that Muster speaks to AWS with the
/// user's own installation, configuration and credential chain (profiles, SSO, instance roles) and never
/// re-implements signing.
///
/// Every call has a time limit (the CLI's whole session is killed when it is exceeded, so a call never hangs),
/// and a throttled call (`RequestLimitExceeded`, `Throttling`) is retried with exponential backoff. The CLI's
/// own retries are turned off (`AWS_MAX_ATTEMPTS=1`) so that these are the only ones. Failures are
/// ``AWSError``s with the AWS error code read from the CLI's standard error.
public struct AWSCommandLine: Sendable {
    /// Where and how to call AWS.
    public struct Options: Sendable, Hashable {
        /// `--region`; the CLI's configured region when `nil`.
        public var region: String?
        /// `--profile`; the CLI's default profile when `nil`.
        public var profile: String?
        /// `--endpoint-url` (an AWS-compatible endpoint, for example a test double); AWS's when `nil`.
        public var endpointURL: String?
        /// The CLI executable: a name looked up on `PATH`, or a path.
        public var executable: String
        /// The CLI's environment: `nil` passes this process's environment through (the user's credential chain).
        public var environment: [String: String]?
        /// The longest one call may take.
        public var timeout: Duration
        /// How many times a throttled call is tried again.
        public var throttleRetries: Int
        /// The wait before the first retry; it doubles for each further retry.
        public var retryDelay: Duration

        /// Creates options.
        public init(
            region: String? = nil,
            profile: String? = nil,
            endpointURL: String? = nil,
            executable: String = "aws",
            environment: [String: String]? = nil,
            timeout: Duration = .seconds(60),
            throttleRetries: Int = 4,
            retryDelay: Duration = .milliseconds(500)
        ) {
            self.region = region
            self.profile = profile
            self.endpointURL = endpointURL
            self.executable = executable
            self.environment = environment
            self.timeout = timeout
            self.throttleRetries = throttleRetries
            self.retryDelay = retryDelay
        }
    }

    /// The options.
    public let options: Options
    private let logger: Logger

    /// Creates a runner.
    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// Runs `aws ARGUMENTS… --output json` and decodes its standard output as `type`.
    public func json<T: Decodable>(_ type: T.Type, _ arguments: [String]) async throws(AWSError) -> T {
        let data = try await run(arguments)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            let text = String(decoding: data.prefix(300), as: UTF8.self)
            throw AWSError(.badOutput, message: "aws \(Self.operation(arguments)) answered what is not the JSON expected (\(error)): \(text)")
        }
    }

    /// Runs `aws ARGUMENTS… --output json` and returns its standard output (empty for calls that print nothing).
    @discardableResult
    public func run(_ arguments: [String]) async throws(AWSError) -> Data {
        var attempt = 0
        while true {
            do {
                return try await once(arguments)
            } catch  where error.isRetryable && attempt < options.throttleRetries {
                attempt += 1
                let delay = options.retryDelay * (1 << (attempt - 1))
                logger.info(
                    "AWS throttled a call; retrying",
                    metadata: ["operation": "\(Self.operation(arguments))", "attempt": "\(attempt)", "delay": "\(delay)"]
                )
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw AWSError(.timedOut, message: "aws \(Self.operation(arguments)) was cancelled while waiting to retry")
                }
            }
        }
    }

    /// The full argument list for one call.
    public func commandLine(_ arguments: [String]) -> [String] {
        var line = arguments + ["--output", "json"]
        if let region = options.region { line += ["--region", region] }
        if let profile = options.profile { line += ["--profile", profile] }
        if let endpoint = options.endpointURL { line += ["--endpoint-url", endpoint] }
        return line
    }

    /// `ec2 run-instances` for messages.
    static func operation(_ arguments: [String]) -> String {
        arguments.prefix { !$0.hasPrefix("-") }.prefix(2).joined(separator: " ")
    }

    private struct Finished: Sendable {
        var status: TerminationStatus
        var output: String
        var error: String
    }

    private func once(_ arguments: [String]) async throws(AWSError) -> Data {
        let operation = Self.operation(arguments)
        let finished: Finished
        do {
            finished = try await withThrowingTaskGroup(of: Finished?.self) { group in
                group.addTask { try await self.spawn(arguments) }
                group.addTask {
                    try await Task.sleep(for: self.options.timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let finished = first else {
                    throw AWSError(
                        .timedOut,
                        message: "aws \(operation) took longer than \(options.timeout) and was stopped; check the network or raise the timeout"
                    )
                }
                return finished
            }
        } catch let error as AWSError {
            throw error
        } catch let error as SubprocessError where error.code == .executableNotFound {
            throw AWSError(
                .notInstalled,
                message: "cannot run '\(options.executable)': install the AWS CLI (for example `pip install awscli`) and put `aws` on PATH"
            )
        } catch is CancellationError {
            throw AWSError(.timedOut, message: "aws \(operation) was cancelled")
        } catch {
            throw AWSError(.failed, message: "cannot run aws \(operation): \(error)")
        }
        guard case .exited(0) = finished.status else {
            var error = AWSError.parse(stderr: finished.error, operation: operation)
            if case .signaled(let signal) = finished.status, error.code == .failed {
                error.message = "aws \(operation) was killed by signal \(signal)"
            }
            logger.debug("aws call failed", metadata: ["operation": "\(operation)", "error": "\(error)"])
            throw error
        }
        return Data(finished.output.utf8)
    }

    private func spawn(_ arguments: [String]) async throws -> Finished {
        var platform = PlatformOptions()
        // Its own session, so that a timeout kills the CLI and anything it started.
        platform.createSession = true
        platform.teardownSequence = [.send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .milliseconds(200))]
        let executable: Executable = options.executable.contains("/") ? .path(FilePath(options.executable)) : .name(options.executable)
        let fixed: [Environment.Key: String?] = ["AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": ""]
        let environment: Environment
        if let custom = options.environment {
            var merged = custom
            for (key, value) in fixed { merged[key.rawValue] = value }
            environment = .custom(Dictionary(uniqueKeysWithValues: merged.map { (Environment.Key(rawValue: $0.key)!, $0.value) }))
        } else {
            environment = .inherit.updating(fixed)
        }
        // Output goes to unlinked files rather than pipes: a pipe's end inherited by some other process started at
        // the same moment would keep the call waiting for an end of file long after the CLI exited or was killed.
        let output = try CapturedOutput()
        defer { output.close() }
        let result = try await Subprocess.run(
            executable,
            arguments: Arguments(commandLine(arguments)),
            environment: environment,
            platformOptions: platform,
            input: .none,
            output: .fileDescriptor(output.standardOutputWriter, closeAfterSpawningProcess: true),
            error: .fileDescriptor(output.standardErrorWriter, closeAfterSpawningProcess: true)
        )
        return Finished(status: result.terminationStatus, output: try output.standardOutput(), error: try output.standardError())
    }
}

/// Two anonymous files (created in a private folder and unlinked at once) that take a child's standard output
/// and error, read back once it has exited.
private final class CapturedOutput {
    let standardOutputWriter: FileDescriptor
    let standardErrorWriter: FileDescriptor
    private let outputReader: FileDescriptor
    private let errorReader: FileDescriptor

    init() throws {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-aws-\(UUID().uuidString)")
        guard mkdir(folder, 0o700) == 0 else { throw AWSError(.failed, message: "cannot create \(folder): \(String(cString: strerror(errno)))") }
        defer { rmdir(folder) }
        func pair(_ name: String) throws -> (FileDescriptor, FileDescriptor) {
            let path = FilePath((folder as NSString).appendingPathComponent(name))
            let writer = try FileDescriptor.open(path, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec], permissions: .ownerReadWrite)
            let reader = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
            _ = unlink(path.string)
            return (writer, reader)
        }
        (standardOutputWriter, outputReader) = try pair("stdout")
        (standardErrorWriter, errorReader) = try pair("stderr")
    }

    func standardOutput() throws -> String { try Self.read(outputReader, limit: 16 * 1024 * 1024) }

    func standardError() throws -> String { try Self.read(errorReader, limit: 1024 * 1024) }

    func close() {
        try? outputReader.close()
        try? errorReader.close()
    }

    private static func read(_ descriptor: FileDescriptor, limit: Int) throws -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count < limit {
            let count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
