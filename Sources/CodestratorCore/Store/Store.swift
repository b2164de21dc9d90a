import Foundation
import GRDB

/// The state database: one GRDB `DatabasePool` over `<repo>/.codestrator/state.db`.
///
/// Services reach it only through `read` / `write`, whose closures get a `Tx` — never a GRDB
/// type — so that another store (PostgreSQL) can stand behind the same seam later.
public final class Store: Sendable {
    let pool: DatabasePool
    public let path: String
    public let clock: any Clock

    /// Opens (creating when missing) and migrates the database.
    ///
    /// - Parameter busyTimeout: how long a write waits for another process's write (≥ 5 s for
    ///   servers; 500 ms for hooks, which must never block an agent CLI).
    public init(path: String, clock: any Clock = SystemClock(), busyTimeout: TimeInterval = 5) throws {
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
            pool = try DatabasePool(path: path, configuration: config)
            try Migrations.migrate(pool, lockPath: path + ".migrate-lock", now: Timestamp.format(clock.now()))
        } catch let e as CodestratorError {
            throw e
        } catch {
            throw Store.translate(error)
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
                var result: T?
                try db.inTransaction(.immediate) {
                    // Read the clock once the write lock is held, so that timestamps follow the order
                    // in which transactions really ran (leases and lock history depend on it).
                    let tx = Tx(db: db, now: Timestamp.format(clock.now()), writable: true)
                    result = try body(tx)
                    if tx.versionBumped {
                        try tx.execute(
                            "UPDATE meta SET db_version = db_version + 1, updated_at = ? WHERE id = 1", [tx.now])
                    }
                    return .commit
                }
                return result!
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
            default:
                return CodestratorError(
                    .internal, "database error: \(e.message ?? "\(e.resultCode)")",
                    expected: "no database error (this is a bug; see the server log)")
            }
        }
        return error
    }
}

/// A value bound to an SQL statement.
public protocol SQLArgument: Sendable {
    var sqlValue: SQLValue { get }
}

public enum SQLValue: Sendable {
    case null, int(Int), double(Double), text(String)
}

extension Int: SQLArgument { public var sqlValue: SQLValue { .int(self) } }
extension String: SQLArgument { public var sqlValue: SQLValue { .text(self) } }
extension Bool: SQLArgument { public var sqlValue: SQLValue { .int(self ? 1 : 0) } }
extension Double: SQLArgument { public var sqlValue: SQLValue { .double(self) } }
extension JSON: SQLArgument {
    /// JSON columns hold text; a JSON `null` parameter is SQL NULL.
    public var sqlValue: SQLValue { isNull ? .null : .text(serialized()) }
}
extension Optional: SQLArgument where Wrapped: SQLArgument {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}
extension SQLValue: SQLArgument { public var sqlValue: SQLValue { self } }

/// The handle a service gets inside one transaction.
public final class Tx {
    let db: Database
    /// The transaction's time: every row it writes carries the same timestamp.
    public let now: String
    public let writable: Bool
    var versionBumped = false

    init(db: Database, now: String, writable: Bool) {
        self.db = db
        self.now = now
        self.writable = writable
    }

    /// Marks this transaction as changing what the mirror shows (`meta.db_version` + 1 at commit).
    public func bumpVersion() { versionBumped = true }

    private func args(_ a: [any SQLArgument]) -> StatementArguments {
        StatementArguments(
            a.map { v -> DatabaseValue in
                switch v.sqlValue {
                case .null: return .null
                case .int(let i): return i.databaseValue
                case .double(let d): return d.databaseValue
                case .text(let s): return s.databaseValue
                }
            })
    }

    /// Statements are prepared once per connection and reused: parsing and authorising SQL text
    /// on every call was the largest part of a small write's cost.
    private func statement(_ sql: String) throws -> Statement { try db.cachedStatement(sql: sql) }

    public func execute(_ sql: String, _ arguments: [any SQLArgument] = []) throws {
        try statement(sql).execute(arguments: args(arguments))
    }

    /// Runs an INSERT and returns the new row id.
    @discardableResult
    public func insert(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> Int {
        try statement(sql).execute(arguments: args(arguments))
        return Int(db.lastInsertedRowID)
    }

    /// Rows changed by the last statement.
    public var changes: Int { db.changesCount }

    public func rows(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> [SQLRow] {
        try Row.fetchAll(statement(sql), arguments: args(arguments)).map(SQLRow.init)
    }

    public func row(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> SQLRow? {
        try Row.fetchOne(statement(sql), arguments: args(arguments)).map(SQLRow.init)
    }

    public func int(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> Int? {
        try Int.fetchOne(statement(sql), arguments: args(arguments))
    }

    public func ints(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> [Int] {
        try Int.fetchAll(statement(sql), arguments: args(arguments))
    }

    public func string(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> String? {
        try String.fetchOne(statement(sql), arguments: args(arguments))
    }
}

/// One fetched row, read by column name.
///
/// Values are copied into a dictionary once: GRDB's by-name lookup compares names case-insensitively
/// column by column, which made decoding a wide row quadratic.
public struct SQLRow: @unchecked Sendable {
    let values: [String: DatabaseValue]

    init(_ row: Row) {
        var d: [String: DatabaseValue] = [:]
        d.reserveCapacity(row.count)
        for (name, value) in row where d[name] == nil { d[name] = value }
        values = d
    }

    public func int(_ c: String) -> Int { optInt(c) ?? 0 }
    public func optInt(_ c: String) -> Int? {
        guard let v = values[c] else { return nil }
        return Int.fromDatabaseValue(v)
    }
    public func string(_ c: String) -> String { optString(c) ?? "" }
    public func optString(_ c: String) -> String? {
        guard let v = values[c] else { return nil }
        return String.fromDatabaseValue(v)
    }
    public func bool(_ c: String) -> Bool { (optInt(c) ?? 0) != 0 }
    public func optBool(_ c: String) -> Bool? { optInt(c).map { $0 != 0 } }
    /// A JSON column as a value (SQL NULL → `null`).
    public func json(_ c: String) -> JSON {
        guard let s = optString(c), let v = try? JSON.parse(s) else { return .null }
        return v
    }
    public func hasColumn(_ c: String) -> Bool { values[c] != nil }
}
