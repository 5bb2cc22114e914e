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
///
/// Only an agent built with the Swift standard library linked statically (`swift build -c release --product
/// muster-agent --static-swift-stdlib`) starts on a stock image; the ordinary build needs the toolchain's
/// `libswiftCore.so`. Each binary's ``AgentLinkage`` is read from the file, a self-contained one is preferred,
/// and ``warnings`` says when an image would get one that cannot start.
public struct AgentDownload: Sendable {
    /// One binary.
    public struct Binary: Sendable, Hashable {
        /// Its path.
        public var path: String
        /// Its hex SHA-256.
        public var sha256: String
        /// Its size in bytes.
        public var size: Int
        /// Whether it starts without the Swift runtime installed.
        public var linkage: AgentLinkage
    }

    /// The binaries by architecture.
    public let binaries: [String: Binary]

    /// The architectures a node may ask for.
    public static let architectures = ["x86_64", "aarch64"]

    /// The file name a self-contained agent for `arch` has beside `muster` (`muster-agent-linux-x86_64`).
    public static func fileName(for arch: String) -> String { "muster-agent-linux-\(arch)" }

    /// How to build an agent that starts on a stock image, for messages.
    public static let staticBuildCommand = "swift build -c release --product muster-agent --static-swift-stdlib"

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

    /// No binary at all: nodes whose image lacks `muster-agent` cannot boot.
    public static let none = AgentDownload(binaries: [:])

    private init(binaries: [String: Binary]) {
        self.binaries = binaries
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
        self.init(binaries: binaries)
    }

    /// Finds the binaries shipped in `folder` (beside the `muster` executable): `muster-agent-linux-<arch>` for
    /// each architecture, and `muster-agent` (the ordinary build) for this machine's own. Of the two, the one
    /// that needs no Swift runtime is served; `explicit` paths (`--agent-binary`) come before both, each for the
    /// architecture its ELF header names.
    ///
    /// - Throws: ``AgentDownloadError`` when an explicit path cannot be read or is not an x86_64 or aarch64 ELF
    ///   executable.
    public init(folder: String, explicit: [String] = []) throws {
        var paths: [String: String] = [:]
        for path in explicit {
            guard FileManager.default.isReadableFile(atPath: path) else { throw AgentDownloadError("cannot read the agent binary \(path)") }
            guard let arch = ELFFile(path: path)?.architecture else {
                throw AgentDownloadError("\(path) is not an x86_64 or aarch64 Linux executable; it cannot be served as muster-agent")
            }
            guard paths[arch] == nil else { throw AgentDownloadError("two agent binaries for linux/\(arch): \(paths[arch]!) and \(path)") }
            paths[arch] = path
        }
        for arch in Self.architectures where paths[arch] == nil {
            var candidates = [(folder as NSString).appendingPathComponent(Self.fileName(for: arch))]
            if arch == Self.hostArchitecture { candidates.append((folder as NSString).appendingPathComponent("muster-agent")) }
            let readable = candidates.filter { FileManager.default.isReadableFile(atPath: $0) }
            // Self-contained first, then files Muster cannot judge, then those that need the Swift runtime.
            let rank: (String) -> Int = {
                switch AgentLinkage(path: $0) {
                case .selfContained: 0
                case .unknown: 1
                case .needsSwiftRuntime: 2
                }
            }
            if let best = readable.enumerated().min(by: { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }) {
                paths[arch] = best.element
            }
        }
        try self.init(paths: paths)
    }

    /// What an operator should know before nodes boot from stock images: a served agent that needs the Swift
    /// runtime, or no agent at all. Empty when every served binary is self-contained (or cannot be judged).
    public var warnings: [String] {
        guard !binaries.isEmpty else {
            return [
                "no muster-agent to serve to stock images: build one with \(Self.staticBuildCommand) (and the linker flags in the "
                    + "README's EC2 section), copy it beside muster as \(Self.fileName(for: Self.hostArchitecture)) or pass --agent-binary PATH"
            ]
        }
        return binaries.sorted { $0.key < $1.key }.compactMap { arch, binary in
            guard case .needsSwiftRuntime(let libraries) = binary.linkage else { return nil }
            return "the muster-agent served for linux/\(arch) (\(binary.path)) is linked dynamically against "
                + "\(libraries.joined(separator: ", ")): it will not start on an image without Swift; build one with "
                + "\(Self.staticBuildCommand) (and the linker flags in the README's EC2 section), copy it beside muster as "
                + "\(Self.fileName(for: arch)) or pass --agent-binary PATH"
        }
    }

    /// One line per served binary: architecture, path, linkage and SHA-256, for the logs.
    public var descriptions: [String] {
        binaries.sorted { $0.key < $1.key }.map { arch, binary in
            "serving muster-agent for linux/\(arch): \(binary.path) (\(binary.linkage.word), sha256 \(binary.sha256.prefix(12)))"
        }
    }

    /// What `/v1/healthz` says about the served binaries (file names, not paths).
    public var health: [AgentBinaryHealth] {
        binaries.sorted { $0.key < $1.key }.map { arch, binary in
            AgentBinaryHealth(
                architecture: arch,
                file: (binary.path as NSString).lastPathComponent,
                sha256: binary.sha256,
                linkage: binary.linkage.word
            )
        }
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
        return Binary(path: path, sha256: digest, size: size, linkage: AgentLinkage(path: path))
    }
}

/// Why the agent binaries cannot be served.
public struct AgentDownloadError: Error, Sendable, CustomStringConvertible {
    /// What went wrong and what to do.
    public var message: String

    init(_ message: String) { self.message = message }

    public var description: String { message }
}
