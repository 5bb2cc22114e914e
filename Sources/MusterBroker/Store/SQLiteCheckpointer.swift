import Foundation
import GRDB
import GRDBSQLite
import Logging
import Synchronization

/// Copies the SQLite write-ahead log back into the database file on a connection and a thread of its own, so
/// that no commit waits for it.
///
/// SQLite's own automatic checkpoint runs inside the commit that takes the log past 1,000 pages: that commit
/// (and with it the broker's state, and every change grouped behind it) waits while pages are copied and the
/// file is synced, 10–50 ms measured here, where a commit otherwise takes well under one. Installed as the
/// writer's WAL hook (which replaces the automatic checkpoint), this one only notes the log's size; past
/// ``threshold`` pages it starts a passive checkpoint elsewhere, which neither waits for nor blocks readers and
/// writers. The log may grow past the threshold meanwhile; the checkpoint after catches up.
final class SQLiteCheckpointer: Sendable {
    /// The log size, in pages, that starts a checkpoint: SQLite's default for its automatic one.
    static let threshold: Int32 = 1_000

    private let path: String
    private let logger: Logger
    /// Taken by the writer's hook: the log may pass the threshold again while a checkpoint runs.
    private let runs = Mutex(CoalescedRuns())
    /// The checkpoint's own connection, opened at the first one. Only the one running checkpoint takes this lock,
    /// so opening the file never holds up the hook, which runs inside a commit.
    private let connection = Mutex<DatabaseQueue?>(nil)

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// Installs the hook on `db` (the pool's writer; readers never commit, so it never fires on them).
    func install(on db: Database) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_wal_hook(db.sqliteConnection, SQLiteCheckpointer.hook, context)
    }

    /// `sqlite3_wal_hook`'s callback: the context (this checkpointer), the connection, the database's name, and
    /// the pages now in the log.
    private typealias Hook = @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32

    private static let hook: Hook = { context, _, _, pages in
        if pages >= SQLiteCheckpointer.threshold, let context {
            Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue().request()
        }
        return SQLITE_OK
    }

    /// Starts a checkpoint unless one runs (then it runs once more when it is done).
    func request() {
        if runs.withLock({ $0.requested() }) { Task.detached(priority: .utility) { await self.run() } }
    }

    private func run() async {
        repeat {
            do {
                let connection = try self.connection.withLock { connection in
                    if let connection { return connection }
                    var configuration = Configuration()
                    configuration.label = "muster-checkpoint"
                    configuration.busyMode = .timeout(5)
                    let made = try DatabaseQueue(path: path, configuration: configuration)
                    connection = made
                    return made
                }
                // GRDB runs this on the queue's own thread, not on the tasks' pool.
                let (log, copied) = try await connection.writeWithoutTransaction { try $0.checkpoint(.passive) }
                logger.trace("checkpoint", metadata: ["log-pages": "\(log)", "copied": "\(copied)"])
            } catch {
                logger.warning("checkpoint failed; the log is copied back at the next one", metadata: ["error": "\(error)"])
            }
        } while runs.withLock { $0.ended() }
    }
}
