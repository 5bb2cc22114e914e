import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL server (Debian's `postgresql` package) for a test or a benchmark: `initdb` into a
/// temporary folder, then `pg_ctl start` listening only on a Unix socket in that folder, so that several never
/// share a port or a server. Run as root, the server runs as the `postgres` user, as PostgreSQL requires.
public final class ThrowawayPostgres: Sendable {
    /// The server's folder (its data, its socket, its log).
    public let folder: String
    /// The port in the socket's name.
    public let port = 5432
    /// The superuser made by `initdb`.
    public let user = "muster"
    private let binaries: String

    /// Starts a server; fails when PostgreSQL is not installed.
    public static func start() async throws -> ThrowawayPostgres {
        let binaries = try binaryFolder()
        // Short: a Unix socket's path must fit in 107 bytes.
        let folder = "/tmp/mpg-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        if geteuid() == 0 { try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: folder) }
        let server = ThrowawayPostgres(folder: folder, binaries: binaries)
        try await server.run(["\(binaries)/initdb", "-D", "\(folder)/data", "-U", "muster", "--auth=trust", "-E", "UTF8", "--no-sync"])
        let options = "-c listen_addresses='' -k \(folder) -p 5432 -c fsync=off -c max_connections=200"
        try await server.run(["\(binaries)/pg_ctl", "-D", "\(folder)/data", "-o", options, "-l", "\(folder)/log", "-w", "-t", "60", "start"])
        return server
    }

    /// Runs `body` with a started server and stops it afterwards, whatever happens.
    public static func with<T: Sendable>(_ body: (ThrowawayPostgres) async throws -> T) async throws -> T {
        let server = try await start()
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    private init(folder: String, binaries: String) {
        self.folder = folder
        self.binaries = binaries
    }

    /// The URL of `database` on this server (through its socket), as `muster broker --store` takes it.
    public func urlText(database: String = "postgres", password: String? = nil) -> String {
        let credentials = password.map { "\(user):\($0)" } ?? user
        return "postgres://\(credentials)@/\(database)?host=\(folder)&port=\(port)"
    }

    /// Creates a database and returns its name.
    public func createDatabaseNamed(_ name: String = "t\(UUID().uuidString.prefix(8).lowercased())") async throws -> String {
        try await psql("CREATE DATABASE \(name)")
        return name
    }

    /// The process id of the server's postmaster (its backends are its children).
    public var postmasterPID: pid_t? {
        guard let text = try? String(contentsOfFile: "\(folder)/data/postmaster.pid", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    /// Runs one SQL statement with `psql` as the superuser; returns what it printed (unaligned, tuples only).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        try await run(["/usr/bin/psql", "-h", folder, "-p", "\(port)", "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
    }

    /// Stops the server (immediate shutdown) and removes its folder.
    public func stop() async {
        _ = try? await run(["\(binaries)/pg_ctl", "-D", "\(folder)/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Runs a PostgreSQL program (as `postgres` when this is root) and returns its output; throws with the output
    /// when it fails.
    ///
    /// Spawned and waited for directly (posix_spawn, waitpid on a thread of its own): `pg_ctl start` leaves a
    /// daemon behind that would hold a pipe open, and initdb takes a while on the tests' few threads. The child gets
    /// standard input, output and error and no other descriptor.
    @discardableResult
    private func run(_ arguments: [String]) async throws -> String {
        let asPostgres = geteuid() == 0 && !arguments[0].hasSuffix("psql")
        let argv = asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments : arguments
        let outputPath = "\(folder)-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            Thread {
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                defer { posix_spawn_file_actions_destroy(&actions) }
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
                // Nothing else of this process: `pg_ctl start` leaves a server behind that would hold, for its whole
                // life, whatever descriptor another thread had open without close-on-exec (a script file being
                // written, which then cannot be run: ETXTBSY).
                SpawnCloseFrom.add(to: &actions)
                var cArguments = argv.map { strdup($0) } + [nil]
                defer { for argument in cArguments { free(argument) } }
                var pid: pid_t = 0
                let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
                guard spawned == 0 else {
                    continuation.resume(throwing: ThrowawayPostgresError("cannot start \(argv[0]): \(String(cString: strerror(spawned)))"))
                    return
                }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: status)
            }.start()
        }
        let text = String(decoding: FileManager.default.contents(atPath: outputPath) ?? Data(), as: UTF8.self)
        guard status == 0 else {
            throw ThrowawayPostgresError("\((arguments[0] as NSString).lastPathComponent) failed (wait status \(status)): \(text)")
        }
        return text
    }

    /// Where `initdb` and `pg_ctl` are: on `PATH`, else Debian's `/usr/lib/postgresql/<version>/bin`.
    private static func binaryFolder() throws -> String {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        where FileManager.default.isExecutableFile(atPath: "\(folder)/initdb") && FileManager.default.isExecutableFile(atPath: "\(folder)/pg_ctl") {
            return folder
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            let folder = "/usr/lib/postgresql/\(version)/bin"
            if FileManager.default.isExecutableFile(atPath: "\(folder)/initdb") { return folder }
        }
        throw ThrowawayPostgresError("PostgreSQL is not installed (no initdb): apt-get install postgresql (.ci/run does)")
    }
}

/// Why a throwaway PostgreSQL server could not be started or used.
public struct ThrowawayPostgresError: Error, CustomStringConvertible {
    /// What failed, with the program's own output.
    public var description: String

    init(_ description: String) { self.description = description }
}
