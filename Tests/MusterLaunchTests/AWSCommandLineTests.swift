import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MusterLaunch
import NIOCore
import Synchronization
import Testing

/// How many calls a fake endpoint answered.
final class CallCount: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

extension MotoSuites {
    @Suite("AWS CLI runner")
    struct AWSCommandLineTests {

        static func runner(_ options: AWSCommandLine.Options) -> AWSCommandLine {
            var logger = Logger(label: "aws-test")
            logger.logLevel = .critical
            return AWSCommandLine(options: options, logger: logger)
        }

        /// A fake EC2 endpoint that answers every call with one EC2 error, and counts the calls.
        static func failingEndpoint(code: String, status: HTTPResponse.Status) async throws -> (TestHTTPServer, CallCount) {
            let calls = CallCount()
            let router = Router()
            let body = """
                <?xml version="1.0" encoding="UTF-8"?>
                <Response><Errors><Error><Code>\(code)</Code><Message>fake \(code)</Message></Error></Errors><RequestID>r-1</RequestID></Response>
                """
            router.post("/") { _, _ -> Response in
                calls.increment()
                var headers = HTTPFields()
                headers[.contentType] = "text/xml"
                return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            return (try await TestHTTPServer.start(router), calls)
        }

        static func fakeCredentials(endpoint: String, throttleRetries: Int = 2) -> AWSCommandLine.Options {
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
            for (key, value) in MotoServer.environment { environment[key] = value }
            return .init(
                region: "us-east-1",
                endpointURL: endpoint,
                environment: environment,
                timeout: .seconds(30),
                throttleRetries: throttleRetries,
                retryDelay: .milliseconds(10)
            )
        }

        @Test func `an AWS error line gives the AWS code and message`() {
            let error = AWSError.parse(
                stderr:
                    "\nAn error occurred (InvalidAMIID.NotFound) when calling the RunInstances operation: The image id '[ami-1]' does not exist\n",
                operation: "ec2 run-instances"
            )
            #expect(error.code == .service && error.awsCode == "InvalidAMIID.NotFound")
            #expect(error.message == "ec2 run-instances: The image id '[ami-1]' does not exist")
            let retried = AWSError.parse(
                stderr:
                    "An error occurred (RequestLimitExceeded) when calling the RunInstances operation (reached max retries: 4): Request limit exceeded.",
                operation: "ec2 run-instances"
            )
            #expect(retried.code == .throttled && retried.awsCode == "RequestLimitExceeded" && retried.message.contains("(Request limit exceeded.)"))
            #expect(
                AWSError.parse(stderr: "An error occurred (Throttling) when calling the X operation: Rate exceeded", operation: "x").code
                    == .throttled
            )
            #expect(
                AWSError.parse(stderr: "An error occurred (VcpuLimitExceeded) when calling the X operation: no", operation: "x").code
                    == .quotaExceeded
            )
            #expect(
                AWSError.parse(stderr: "Unable to locate credentials. You can configure credentials by running \"aws configure\".", operation: "x")
                    .code
                    == .noCredentials
            )
            let other = AWSError.parse(stderr: "usage: aws [options]\naws: error: argument --count: expected one argument", operation: "x")
            #expect(other.code == .failed && other.awsCode == nil && other.message.contains("expected one argument"))
        }

        @Test func `a call's JSON answer is decoded, and options become CLI flags`() async throws {
            let moto = try await MotoSuites.moto.get()
            struct Regions: Decodable {
                struct Region: Decodable { let RegionName: String }
                let Regions: [Region]
            }
            let regions = try await moto.aws().json(Regions.self, ["ec2", "describe-regions"])
            #expect(regions.Regions.contains { $0.RegionName == "us-east-1" })
            let runner = Self.runner(.init(region: "eu-west-1", profile: "ops", endpointURL: "http://127.0.0.1:9"))
            #expect(
                runner.commandLine(["ec2", "describe-instances"])
                    == [
                        "ec2", "describe-instances", "--output", "json", "--region", "eu-west-1", "--profile", "ops", "--endpoint-url",
                        "http://127.0.0.1:9",
                    ]
            )
        }

        @Test func `no credentials is its own error code`() async throws {
            let moto = try await MotoSuites.moto.get()
            let home = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-empty-home-\(UUID().uuidString)")
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: home) }
            let runner = Self.runner(
                .init(
                    region: "us-east-1",
                    endpointURL: moto.endpoint,
                    environment: [
                        "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                        "HOME": home,
                        // Never ask a real instance metadata service for credentials.
                        "AWS_EC2_METADATA_DISABLED": "true",
                    ]
                )
            )
            do {
                try await runner.run(["ec2", "describe-instances"])
                Issue.record("a call without credentials succeeded")
            } catch {
                #expect(error.code == .noCredentials)
                #expect(error.message.contains("aws configure"))
            }
        }

        @Test func `a throttled call is retried with backoff, then reported as throttled`() async throws {
            let (server, calls) = try await Self.failingEndpoint(code: "RequestLimitExceeded", status: .serviceUnavailable)
            defer { Task { await server.stop() } }
            let runner = Self.runner(Self.fakeCredentials(endpoint: server.url, throttleRetries: 2))
            do {
                try await runner.run(["ec2", "describe-instances"])
                Issue.record("a throttled call succeeded")
            } catch {
                #expect(error.code == .throttled && error.awsCode == "RequestLimitExceeded")
            }
            #expect(calls.value == 3, "one call and two retries, the CLI's own retries off")
        }

        @Test func `an account limit is a quota error, not retried`() async throws {
            let (server, calls) = try await Self.failingEndpoint(code: "InstanceLimitExceeded", status: .badRequest)
            defer { Task { await server.stop() } }
            do {
                try await Self.runner(Self.fakeCredentials(endpoint: server.url)).run(["ec2", "run-instances", "--image-id", "ami-1"])
                Issue.record("a call over quota succeeded")
            } catch {
                #expect(error.code == .quotaExceeded && error.awsCode == "InstanceLimitExceeded")
                #expect(error.message.contains("fake InstanceLimitExceeded"))
            }
            #expect(calls.value == 1)
        }

        @Test func `a call that hangs is killed at its time limit`() async throws {
            let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("muster-aws-hang-\(UUID().uuidString)")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let fake = folder + "/aws"
            try Data("#!/bin/sh\necho $$ > \"$0.pid\"\nexec sleep 600\n".utf8).write(to: URL(fileURLWithPath: fake))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
            let runner = Self.runner(.init(executable: fake, timeout: .milliseconds(500)))
            let clock = ContinuousClock()
            let started = clock.now
            do {
                try await runner.run(["ec2", "describe-instances"])
                Issue.record("a hanging call returned")
            } catch {
                #expect(error.code == .timedOut)
            }
            // The fake CLI would hang for 600 s; a loaded machine may take a while to run the kill, never that long.
            #expect(clock.now - started < .seconds(120))
            let pid = try #require(pid_t(try String(contentsOfFile: fake + ".pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            try await eventually("the hanging CLI is gone", timeout: .seconds(30)) { kill(pid, 0) != 0 }
        }

        @Test func `a missing aws executable says how to install it`() async throws {
            do {
                try await Self.runner(.init(executable: "muster-no-such-aws-cli")).run(["ec2", "describe-instances"])
                Issue.record("a missing CLI ran")
            } catch {
                #expect(error.code == .notInstalled)
                #expect(error.message.contains("install the AWS CLI"))
            }
        }
    }
}
