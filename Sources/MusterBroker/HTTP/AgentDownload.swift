import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import MusterCore
import NIOCore

/// The `muster-agent` binaries the broker serves to cloud nodes whose image lacks one:
/// `GET /v1/agent/linux/{arch}` (`x86_64`, `aarch64`, as `uname -m` prints them).
///
/// The route is public: the binary is no secret, and a node checks what it downloaded against the SHA-256 its
/// launcher wrote into its userdata (``sha256``), so a broker that served another file would be refused, not
/// trusted. Digests are computed once, when this value is made; a binary changed afterwards no longer matches
/// and nodes refuse it.
public struct AgentDownload: Sendable {
    /// One binary.
    public struct Binary: Sendable, Hashable {
        /// Its path.
        public var path: String
        /// Its hex SHA-256.
        public var sha256: String
        /// Its size in bytes.
        public var size: Int
    }

    /// The binaries by architecture.
    public let binaries: [String: Binary]

    /// The architectures a node may ask for.
    public static let architectures = ["x86_64", "aarch64"]

    /// The architecture of this machine, as `uname -m` names it.
    public static var hostArchitecture: String {
        #if arch(x86_64)
        "x86_64"
        #elseif arch(arm64)
        "aarch64"
        #else
        "unknown"
        #endif
    }

    /// Hashes the given binaries (architecture → path).
    ///
    /// - Throws: ``AgentDownloadError`` when one cannot be read or the architecture is not one of ``architectures``.
    public init(paths: [String: String]) throws {
        var binaries: [String: Binary] = [:]
        for (arch, path) in paths {
            guard Self.architectures.contains(arch) else {
                throw AgentDownloadError("unknown agent architecture '\(arch)': use one of \(Self.architectures.joined(separator: ", "))")
            }
            binaries[arch] = try Self.hash(path)
        }
        self.binaries = binaries
    }

    /// Finds the binaries shipped in `folder` (beside the `muster` executable): `muster-agent-linux-<arch>` for
    /// each architecture, and `muster-agent` for this machine's own when there is no such file for it.
    public init(folder: String) throws {
        var paths: [String: String] = [:]
        for arch in Self.architectures {
            let path = (folder as NSString).appendingPathComponent("muster-agent-linux-\(arch)")
            if FileManager.default.isReadableFile(atPath: path) { paths[arch] = path }
        }
        let own = (folder as NSString).appendingPathComponent("muster-agent")
        if paths[Self.hostArchitecture] == nil, Self.architectures.contains(Self.hostArchitecture), FileManager.default.isReadableFile(atPath: own) {
            paths[Self.hostArchitecture] = own
        }
        try self.init(paths: paths)
    }

    /// The hex SHA-256 of each binary by architecture, for launchers to write into userdata.
    public var sha256: [String: String] { binaries.mapValues(\.sha256) }

    /// Adds `GET /v1/agent/linux/:arch` to `router`.
    func register<Context: RequestContext>(on router: Router<Context>) {
        let binaries = binaries
        let files = FileIO()
        router.get("/v1/agent/linux/:arch") { _, context in
            let arch = try HTTPSupport.parameter(context, "arch")
            guard let binary = binaries[arch] else {
                let offered = binaries.keys.sorted()
                throw BrokerError(
                    .notFound,
                    code: "no-agent-binary",
                    "this broker has no muster-agent for linux/\(arch)"
                        + (offered.isEmpty ? "; ship one beside the broker" : " (it has: \(offered.joined(separator: ", ")))")
                )
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/octet-stream"
            headers[.contentLength] = String(binary.size)
            headers[HTTPField.Name("X-Muster-SHA256")!] = binary.sha256
            return Response(status: .ok, headers: headers, body: try await files.loadFile(path: binary.path, context: context))
        }
    }

    private static func hash(_ path: String) throws -> Binary {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw AgentDownloadError("cannot read the agent binary \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size = 0
        while true {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: 1 << 20)
            } catch {
                throw AgentDownloadError("cannot read the agent binary \(path): \(error)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(data: chunk)
            size += chunk.count
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return Binary(path: path, sha256: digest, size: size)
    }
}

/// Why the agent binaries cannot be served.
public struct AgentDownloadError: Error, Sendable, CustomStringConvertible {
    /// What went wrong and what to do.
    public var message: String

    init(_ message: String) { self.message = message }

    public var description: String { message }
}
