import Foundation
import GRDB
import GRDBSQLite

/// The state database: one GRDB `DatabasePool` over `<repo>/.codestrator/state.db`.
///
/// Services reach it only through `read` / `write`, whose closures get a `Tx` — never a GRDB
/// type — so that another store (PostgreSQL) can stand behind the same seam later.
public final class Store: Sendable {
    let pool: DatabasePool
    public let path: String
    public let clock: any WallClock

    /// Opens (creating when missing) and migrates the database.
    ///
    /// - Parameter busyTimeout: how long a write waits for another process's write (≥ 5 s for
    ///   servers; 500 ms for hooks, which must never block an agent CLI).
    public init(path: String, clock: any WallClock = SystemClock(), busyTimeout: TimeInterval = 5) throws {
        self.path = path
        self.clock = clock
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.foreignKeysEnabled = true
        config.journalMode = .wal
        config.label = "codestrator"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            try Store.createIfMissing(path)
            pool = try DatabasePool(path: path, configuration: config)
            try Migrations.migrate(pool, lockPath: path + ".migrate-lock", now: Timestamp.format(clock.now()))
        } catch let e as CodestratorError {
            throw e
        } catch {
            throw Store.translate(error)
        }
    }

    /// The page size of a new database. Every page a write touches is written whole to the WAL at
    /// commit, so small pages make small writes cheaper: on the machine measured in
    /// docs/performance.md a commit touching four pages took 0.074 ms with 4096-byte pages and
    /// 0.038 ms with 1024-byte pages. Rows are small (a task is a few hundred bytes); large free text
    /// moves to overflow pages. An existing database keeps the page size it was created with.
    static let newDatabasePageSize = 1024

    /// Creates the file with its page size and WAL mode before GRDB opens it: the page size can only be
    /// chosen before the first page is written, and switching to WAL writes it. Two processes creating
    /// the same database at once both ask for the same settings.
    ///
    /// The new file is made under a temporary name and linked into place, so `path` never exists empty:
    /// an existing 0-byte file is not one of ours being created but a database that lost its content
    /// (truncated, a failed copy). SQLite would silently take it for a new, empty database and every
    /// session would vanish, so it is refused with what to do.
    static func createIfMissing(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            if info.st_size > 0 { return }
            throw CodestratorError(
                .unavailable, "the database \(path) is an empty file (0 bytes): its content was lost",
                expected:
                    "a restored copy of the file, or the empty file moved aside (mv \(ShellQuote.join([path])) \(ShellQuote.join([path + ".empty"]))) to start with a new database"
            )
        }
        let tmp = path + ".new-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { for name in [tmp, tmp + "-wal", tmp + "-shm"] { unlink(name) } }
        do {
            var connection: OpaquePointer?
            let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
            defer { sqlite3_close(connection) }
            guard sqlite3_open_v2(tmp, &connection, flags, nil) == SQLITE_OK, let connection else {
                throw CodestratorError(
                    .unavailable, "cannot create the database at \(path)", expected: "a writable .codestrator folder")
            }
            let sql = "PRAGMA page_size = \(newDatabasePageSize); PRAGMA journal_mode = WAL;"
            guard sqlite3_exec(connection, sql, nil, nil, nil) == SQLITE_OK else {
                throw CodestratorError(
                    .unavailable,
                    "cannot prepare the database at \(path): \(String(cString: sqlite3_errmsg(connection)))",
                    expected: "a writable .codestrator folder with free space")
            }
        }
        // Closed: the WAL is checkpointed and removed. `link` fails when another process linked first,
        // which is fine: both asked for the same settings.
        if link(tmp, path) != 0 && errno != EEXIST {
            if errno == EPERM || errno == EOPNOTSUPP || errno == ENOTSUP {
                if rename(tmp, path) == 0 { return }  // a file system without hard links
            }
            throw CodestratorError(
                .unavailable, "cannot create the database at \(path): \(String(cString: strerror(errno)))",
                expected: "a writable .codestrator folder")
        }
    }

    /// One write transaction, begun with `BEGIN IMMEDIATE` so that a read-check-write cannot
    /// interleave with another process.
    ///
    /// The transaction runs on the calling thread (GRDB's synchronous API): a small write is a few
    /// dozen microseconds of SQLite, and the two thread hand-offs of the asynchronous API cost more
    /// than that. A write that waits for another process's lock blocks this thread for at most the
    /// busy timeout; the other calls of this process keep running on the remaining threads.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Tx) throws -> T) async throws -> T {
        try writeNow(body)
    }

    /// One consistent read (a snapshot of the database), on the calling thread.
    public func read<T: Sendable>(_ body: @escaping @Sendable (Tx) throws -> T) async throws -> T {
        try readNow(body)
    }

    func writeNow<T>(_ body: (Tx) throws -> T) throws -> T {
        let clock = self.clock
        do {
            return try pool.writeWithoutTransaction { db in
                // BEGIN/COMMIT through the statement cache: GRDB's `inTransaction` re-parsed them and ran
                // its observer bookkeeping on every write.
                try Tx.run(db, "BEGIN IMMEDIATE TRANSACTION")
                do {
                    // Read the clock once the write lock is held, so that timestamps follow the order
                    // in which transactions really ran (leases and lock history depend on it).
                    let tx = Tx(db: db, now: Timestamp.format(clock.now()), writable: true)
                    let result = try body(tx)
                    if tx.versionBumped {
                        try tx.execute(
                            "UPDATE meta SET db_version = db_version + 1, updated_at = ? WHERE id = 1", [tx.now])
                    }
                    try Tx.run(db, "COMMIT TRANSACTION")
                    return result
                } catch {
                    // A failed statement or COMMIT (a deferred foreign key) leaves the transaction open.
                    if Tx.isInsideTransaction(db) { try? Tx.run(db, "ROLLBACK TRANSACTION") }
                    throw error
                }
            }
        } catch {
            throw Store.translate(error)
        }
    }

    func readNow<T>(_ body: (Tx) throws -> T) throws -> T {
        let now = Timestamp.format(clock.now())
        do {
            return try pool.read { db in try body(Tx(db: db, now: now, writable: false)) }
        } catch {
            throw Store.translate(error)
        }
    }

    /// Maps database failures onto the error codes callers understand.
    static func translate(_ error: any Error) -> any Error {
        if error is CodestratorError { return error }
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return CodestratorError(
                    .busy, "the database stayed busy beyond its timeout", expected: "a retry in a moment")
            case .SQLITE_FULL:
                return CodestratorError(
                    .unavailable, "the database cannot grow: the disk is full (\(e.message ?? "SQLITE_FULL"))",
                    expected: "free space on the disk holding .codestrator, then a retry")
            case .SQLITE_IOERR:
                return CodestratorError(
                    .unavailable, "the database file cannot be read or written: \(e.message ?? "I/O error")",
                    expected: "a working disk (free space, no I/O errors), then a retry")
            case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
                return CodestratorError(
                    .unavailable, "the database cannot be opened for writing: \(e.message ?? "\(e.resultCode)")",
                    expected: "a .codestrator folder and state.db this user may write")
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                return CodestratorError(
                    .externalFailed,
                    "the database file is \(e.resultCode == .SQLITE_NOTADB ? "not a database" : "corrupt"): \(e.message ?? "")",
                    expected:
                        "a database restored from a backup, or the file moved aside to start fresh (codestrator doctor checks it)"
                )
            default:
                return CodestratorError(
                    .internal, "database error: \(e.message ?? "\(e.resultCode)")",
                    expected: "no database error (this is a bug; see the server log)")
            }
        }
        return error
    }
}
