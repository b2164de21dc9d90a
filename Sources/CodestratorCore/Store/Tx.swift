import Foundation
import GRDB
import GRDBSQLite

/// A value bound to an SQL statement.
public protocol SQLArgument: Sendable {
    var sqlValue: SQLValue { get }
}

public enum SQLValue: Sendable, Equatable {
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

/// SQLite copies bound text before `sqlite3_bind_text` returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// The handle a service gets inside one transaction.
///
/// Statements come from GRDB's per-connection cache (prepared once, reused), but are bound, stepped
/// and read through SQLite's C API: GRDB's generic `StatementArguments` and `Row` paths instantiated
/// key paths and metadata on every call and were most of a small write's cost (docs/performance.md).
public final class Tx {
    let db: Database
    let connection: OpaquePointer
    /// The transaction's time: every row it writes carries the same timestamp.
    public let now: String
    public let writable: Bool
    var versionBumped = false

    init(db: Database, now: String, writable: Bool) {
        self.db = db
        self.connection = db.sqliteConnection!
        self.now = now
        self.writable = writable
    }

    /// Marks this transaction as changing what the mirror shows (`meta.db_version` + 1 at commit).
    public func bumpVersion() { versionBumped = true }

    /// The cached statement for `sql`, reset and bound to `arguments`.
    private func bound(_ sql: String, _ arguments: [any SQLArgument]) throws -> OpaquePointer {
        let statement = try db.cachedStatement(sql: sql).sqliteStatement
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == arguments.count else {
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE,
                message: "\(arguments.count) arguments for \(expected) parameters", sql: sql)
        }
        for (n, argument) in arguments.enumerated() {
            let index = Int32(n + 1)
            let code: Int32
            switch argument.sqlValue {
            case .null: code = sqlite3_bind_null(statement, index)
            case .int(let i): code = sqlite3_bind_int64(statement, index, Int64(i))
            case .double(let d): code = sqlite3_bind_double(statement, index, d)
            case .text(var s):
                // By byte count, not C string: text may hold NUL characters and must stay whole.
                code = s.withUTF8 { bytes in
                    guard let base = bytes.baseAddress else {
                        return sqlite3_bind_text(statement, index, "", 0, transient)  // "" is text, not NULL
                    }
                    return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                        sqlite3_bind_text(statement, index, $0, Int32(bytes.count), transient)
                    }
                }
            }
            guard code == SQLITE_OK else { throw error(code, sql) }
        }
        return statement
    }

    private func error(_ code: Int32, _ sql: String) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)),
            message: String(cString: sqlite3_errmsg(connection)), sql: sql)
    }

    /// Steps `statement` to its end, handing each row to `row`; the statement is reset afterwards so
    /// that it holds no lock and no reference to its bound text.
    private func run(_ statement: OpaquePointer, _ sql: String, row: (OpaquePointer) -> Void = { _ in }) throws {
        defer { sqlite3_reset(statement) }
        while true {
            let code = sqlite3_step(statement)
            switch code {
            case SQLITE_ROW: row(statement)
            case SQLITE_DONE: return
            default: throw error(code, sql)
            }
        }
    }

    /// Runs one statement without arguments outside a `Tx` (BEGIN, COMMIT, ROLLBACK).
    static func run(_ db: Database, _ sql: String) throws {
        let statement = try db.cachedStatement(sql: sql).sqliteStatement
        defer { sqlite3_reset(statement) }
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            let connection = db.sqliteConnection!
            throw DatabaseError(
                resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)),
                message: String(cString: sqlite3_errmsg(connection)), sql: sql)
        }
    }

    static func isInsideTransaction(_ db: Database) -> Bool {
        guard let connection = db.sqliteConnection else { return false }
        return sqlite3_get_autocommit(connection) == 0
    }

    public func execute(_ sql: String, _ arguments: [any SQLArgument] = []) throws {
        try run(bound(sql, arguments), sql)
    }

    /// Runs an INSERT and returns the new row id.
    @discardableResult
    public func insert(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> Int {
        try run(bound(sql, arguments), sql)
        return Int(sqlite3_last_insert_rowid(connection))
    }

    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(connection)) }

    public func rows(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> [SQLRow] {
        let statement = try bound(sql, arguments)
        let columns = ColumnIndex.of(statement, sql: sql)
        var out: [SQLRow] = []
        try run(statement, sql) { out.append(SQLRow(columns: columns, values: Self.values($0, columns.count))) }
        return out
    }

    public func row(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> SQLRow? {
        let statement = try bound(sql, arguments)
        let columns = ColumnIndex.of(statement, sql: sql)
        var out: SQLRow?
        try run(statement, sql) { s in
            if out == nil { out = SQLRow(columns: columns, values: Self.values(s, columns.count)) }
        }
        return out
    }

    public func int(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> Int? {
        try ints(sql, arguments).first
    }

    /// The first column of every row that is not NULL.
    public func ints(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> [Int] {
        var out: [Int] = []
        try run(bound(sql, arguments), sql) { s in
            if case .int(let i) = Self.value(s, 0) { out.append(i) }
        }
        return out
    }

    public func string(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> String? {
        var out: String?
        var first = true
        try run(bound(sql, arguments), sql) { s in
            guard first else { return }
            first = false
            // SQLite's own conversion, as GRDB's `String.fetchOne` did (a number reads as its text).
            if let p = sqlite3_column_text(s, 0) {
                out = String(
                    decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(s, 0))), as: UTF8.self)
            }
        }
        return out
    }

    static func values(_ statement: OpaquePointer, _ count: Int) -> [SQLValue] {
        var values: [SQLValue] = []
        values.reserveCapacity(count)
        for i in 0..<count { values.append(value(statement, Int32(i))) }
        return values
    }

    static func value(_ statement: OpaquePointer, _ i: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, i) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .int(Int(sqlite3_column_int64(statement, i)))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(statement, i))
        default:
            // Text, and blobs read as text (the schema stores none).
            guard let p = sqlite3_column_text(statement, i) else { return .text("") }
            let n = Int(sqlite3_column_bytes(statement, i))
            return .text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))
        }
    }
}

extension SQLValue {
    /// Text as text; other values are not strings (as GRDB's `String.fromDatabaseValue`).
    var textValue: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    /// Integers, and doubles that are whole numbers (as GRDB's `Int.fromDatabaseValue`).
    var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int(exactly: d)
        case .text, .null: return nil
        }
    }
}

/// The column names of one statement's result, looked up by name. Built once per SQL text: a
/// statement's columns do not change once the schema is migrated.
final class ColumnIndex: @unchecked Sendable {
    let positions: [String: Int]
    let count: Int

    init(names: [String]) {
        var positions: [String: Int] = [:]
        // The first column of a name wins (as in `SELECT t.*, s.id ...`).
        for (i, name) in names.enumerated() where positions[name] == nil { positions[name] = i }
        self.positions = positions
        count = names.count
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: ColumnIndex] = [:]

    static func of(_ statement: OpaquePointer, sql: String) -> ColumnIndex {
        lock.lock()
        let cached = cache[sql]
        lock.unlock()
        if let cached { return cached }
        let count = Int(sqlite3_column_count(statement))
        let names = (0..<count).map { String(cString: sqlite3_column_name(statement, Int32($0))) }
        let index = ColumnIndex(names: names)
        lock.lock()
        cache[sql] = index
        lock.unlock()
        return index
    }
}

/// One fetched row, read by column name.
public struct SQLRow: Sendable {
    let columns: ColumnIndex
    let values: [SQLValue]

    private func value(_ c: String) -> SQLValue? {
        guard let i = columns.positions[c] else { return nil }
        return values[i]
    }

    public func int(_ c: String) -> Int { optInt(c) ?? 0 }
    public func optInt(_ c: String) -> Int? { value(c)?.intValue }
    public func string(_ c: String) -> String { optString(c) ?? "" }
    public func optString(_ c: String) -> String? { value(c)?.textValue }
    public func bool(_ c: String) -> Bool { (optInt(c) ?? 0) != 0 }
    public func optBool(_ c: String) -> Bool? { optInt(c).map { $0 != 0 } }
    /// A JSON column as a value (SQL NULL → `null`).
    public func json(_ c: String) -> JSON {
        guard let s = optString(c), let v = try? JSON.parse(s) else { return .null }
        return v
    }
    /// Whether the row has this column (SQL NULL or not).
    public func hasColumn(_ c: String) -> Bool { columns.positions[c] != nil }
}
