import Foundation
import Logging
import MusterLaunch

/// A real `moto_server` (PyPI moto[server]) on a free loopback port: an EC2 API for tests. One per test suite,
/// shared by its tests (each test uses contexts of its own). It dies with the test process: a shell holds it
/// and ends it once the test process is gone.
final class MotoServer: Sendable {
    let endpoint: String
    private let process: Process

    /// The fake credentials and region every test call uses.
    static let environment: [String: String] = [
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        // Never ask a real instance metadata service for credentials or a region.
        "AWS_EC2_METADATA_DISABLED": "true",
    ]

    /// Starts moto; fails (never skips) when `moto_server` or `aws` is missing.
    static func start() async throws -> MotoServer {
        for tool in ["moto_server", "aws"] where which(tool) == nil {
            throw TestFailure("\(tool) is not on PATH: install it with `pip install 'moto[server]' awscli` (CI's .ci/run does)")
        }
        let port = try freePort()
        let log = (NSTemporaryDirectory() as NSString).appendingPathComponent("moto-\(port).log")
        // A watchdog in a session of its own holds moto and ends it once this test process is gone, however it ends.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = [
            "/bin/sh", "-c",
            "moto_server -H 127.0.0.1 -p \(port) >\"$1\" 2>&1 & pid=$!; while kill -0 \"$2\" 2>/dev/null; do sleep 1; done; kill -9 $pid",
            "sh", log, "\(getpid())",
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = MotoServer(endpoint: "http://127.0.0.1:\(port)", process: process)
        try await eventually("moto_server answers on port \(port) (log: \(log))", timeout: .seconds(60)) {
            (try? await server.ec2().describeInstances(filters: [.init("instance-id", ["i-00000000"])])) != nil
        }
        return server
    }

    private init(endpoint: String, process: Process) {
        self.endpoint = endpoint
        self.process = process
    }

    /// AWS CLI options for this server.
    func options(timeout: Duration = .seconds(60)) -> AWSCommandLine.Options {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        for (key, value) in Self.environment { environment[key] = value }
        return AWSCommandLine.Options(region: "us-east-1", endpointURL: endpoint, environment: environment, timeout: timeout)
    }

    func aws(timeout: Duration = .seconds(60)) -> AWSCommandLine {
        var logger = Logger(label: "test-aws")
        logger.logLevel = .critical
        return AWSCommandLine(options: options(timeout: timeout), logger: logger)
    }

    func ec2() -> EC2Client { EC2Client(aws: aws()) }

    /// Registers an AMI of this name (moto takes any AMI id at run-instances; preflight does not).
    func registerImage(name: String) async throws -> String {
        struct Registered: Decodable {
            let ImageId: String
        }
        return try await aws().json(Registered.self, ["ec2", "register-image", "--name", name, "--root-device-name", "/dev/sda1"]).ImageId
    }

    static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestFailure("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw TestFailure("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// One moto server per test suite, started on first use.
actor SharedMoto {
    private var server: Task<MotoServer, any Error>?

    func get() async throws -> MotoServer {
        if let server { return try await server.value }
        let task = Task { try await MotoServer.start() }
        server = task
        return try await task.value
    }
}
