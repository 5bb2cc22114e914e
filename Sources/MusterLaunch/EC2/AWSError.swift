import Foundation

/// Why an AWS CLI call failed: a Muster ``Code`` to act on, the AWS error code when AWS gave one
/// (`InvalidAMIID.NotFound`, `UnauthorizedOperation`, …), and a message that says what to do.
public struct AWSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; new kinds can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: String, Sendable, Hashable {
            case notInstalled = "aws-not-installed"
            case noCredentials = "aws-no-credentials"
            case throttled = "aws-throttled"
            case quotaExceeded = "aws-quota-exceeded"
            case timedOut = "aws-timed-out"
            case service = "aws-error"
            case failed = "aws-failed"
            case badOutput = "aws-bad-output"
            case imageNotFound = "image-not-found"
        }
        private let kind: Kind

        /// The `aws` executable is not on `PATH` (or not where it was said to be).
        public static let notInstalled = Code(kind: .notInstalled)
        /// No credentials were found in the user's credential chain.
        public static let noCredentials = Code(kind: .noCredentials)
        /// AWS kept throttling the call (`RequestLimitExceeded`, `Throttling`) after every retry.
        public static let throttled = Code(kind: .throttled)
        /// An account limit stops the call (`InstanceLimitExceeded`, `VcpuLimitExceeded`).
        public static let quotaExceeded = Code(kind: .quotaExceeded)
        /// The call did not finish within its time limit and was killed.
        public static let timedOut = Code(kind: .timedOut)
        /// AWS refused the call with an error code of its own (see ``AWSError/awsCode``).
        public static let service = Code(kind: .service)
        /// `aws` failed without an AWS error code (a bad option, a network failure, …).
        public static let failed = Code(kind: .failed)
        /// `aws` answered something that is not the JSON expected.
        public static let badOutput = Code(kind: .badOutput)
        /// A workspace's image is not an AMI that this account can launch.
        public static let imageNotFound = Code(kind: .imageNotFound)

        /// The code's stable text (`aws-throttled`, …).
        public var description: String { kind.rawValue }
    }

    /// What kind of failure.
    public var code: Code
    /// The AWS error code, when AWS gave one.
    public var awsCode: String?
    /// What went wrong and what to do, for the operator.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, awsCode: String? = nil, message: String) {
        self.code = code
        self.awsCode = awsCode
        self.message = message
    }

    public var description: String {
        if let awsCode { return "\(code) (\(awsCode)): \(message)" }
        return "\(code): \(message)"
    }

    /// Whether waiting and calling again may succeed.
    public var isRetryable: Bool { code == .throttled }

    /// AWS error codes that mean "slow down".
    static let throttlingCodes: Set<String> = [
        "RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestThrottled",
    ]
    /// AWS error codes that mean an account limit was reached.
    static let quotaCodes: Set<String> = ["InstanceLimitExceeded", "VcpuLimitExceeded", "MaxSpotInstanceCountExceeded"]

    /// Reads a failed call's standard error: `An error occurred (CODE) when calling the OPERATION operation: MESSAGE`,
    /// or the CLI's own "Unable to locate credentials".
    public static func parse(stderr: String, operation: String) -> AWSError {
        let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.contains("Unable to locate credentials") || text.contains("NoCredentialsError") {
            return AWSError(
                .noCredentials,
                message:
                    "no AWS credentials for \(operation): run `aws configure`, set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            )
        }
        guard let awsCode = awsErrorCode(in: text) else {
            let line = text.split(separator: "\n").last.map(String.init) ?? "no output"
            return AWSError(.failed, message: "aws \(operation) failed: \(line)")
        }
        let message = awsErrorMessage(in: text) ?? text
        if throttlingCodes.contains(awsCode) {
            return AWSError(
                .throttled,
                awsCode: awsCode,
                message: "AWS throttled \(operation) (\(message)); try again later or launch fewer nodes at once"
            )
        }
        if quotaCodes.contains(awsCode) {
            return AWSError(
                .quotaExceeded,
                awsCode: awsCode,
                message: "\(operation) hit an account limit: \(message); ask AWS for a higher quota or launch fewer or smaller instances"
            )
        }
        if awsCode == "AuthFailure" || awsCode == "UnrecognizedClientException" || awsCode == "InvalidClientTokenId" {
            return AWSError(.noCredentials, awsCode: awsCode, message: "AWS did not accept the credentials for \(operation): \(message)")
        }
        return AWSError(.service, awsCode: awsCode, message: "\(operation): \(message)")
    }

    /// The code between the parentheses of `An error occurred (CODE)`.
    private static func awsErrorCode(in text: String) -> String? {
        guard let marker = text.range(of: "An error occurred ("), let close = text[marker.upperBound...].firstIndex(of: ")") else { return nil }
        let code = String(text[marker.upperBound..<close])
        return code.isEmpty ? nil : code
    }

    /// What follows `operation: ` (or `operation (reached max retries: N): `) on the error line.
    private static func awsErrorMessage(in text: String) -> String? {
        guard let line = text.split(separator: "\n").first(where: { $0.contains("An error occurred (") }),
            let operation = line.range(of: " operation")
        else { return nil }
        var rest = line[operation.upperBound...]
        if rest.hasPrefix(" ("), let close = rest.firstIndex(of: ")") { rest = rest[rest.index(after: close)...] }
        guard rest.hasPrefix(": ") else { return nil }
        return String(rest.dropFirst(2)).trimmingCharacters(in: .whitespaces)
    }
}
