import Foundation
import GRDB

/// Named, ordered migrations (docs/database.md#storage). Released migrations are never edited.
enum Migrations {
    static let names = ["v1_initial", "v2_partial_task_indexes", "v3_root_bindings"]

    static func migrator(now: String) -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1_initial") { db in
            for sql in SchemaV1.statements { try db.execute(sql: sql) }
            for sql in SchemaV1.seeds { try db.execute(sql: sql, arguments: [now]) }
        }
        // Epics have no parent and most tasks no assignee: indexing only the rows that have one keeps
        // those inserts from writing two index pages they never need (every page a commit touches is a
        // WAL frame written; docs/performance.md). Lookups by a parent or an assignee use them as before.
        m.registerMigration("v2_partial_task_indexes") { db in
            try db.execute(sql: "DROP INDEX tasks_parent")
            try db.execute(sql: "CREATE INDEX tasks_parent ON tasks(parent_id) WHERE parent_id IS NOT NULL")
            try db.execute(sql: "DROP INDEX tasks_assignee_status")
            try db.execute(
                sql:
                    "CREATE INDEX tasks_assignee_status ON tasks(assignee_thread_id, status) WHERE assignee_thread_id IS NOT NULL"
            )
        }
        // Which terminal a root session belongs to (RootIdentity): a restarted server and the
        // compaction hook find the root's own session through it, not through the parent process.
        m.registerMigration("v3_root_bindings") { db in
            try db.execute(
                sql: """
                    CREATE TABLE root_bindings (
                      key TEXT NOT NULL,
                      session_id INTEGER NOT NULL REFERENCES sessions(id),
                      bound_at TEXT NOT NULL,
                      PRIMARY KEY (key, session_id))
                    """)
            try db.execute(sql: "CREATE INDEX root_bindings_session ON root_bindings(session_id)")
        }
        return m
    }

    /// Migrates under an advisory file lock, so that several processes starting at once never
    /// race one another's schema changes; refuses a database written by a newer codestrator.
    static func migrate(_ pool: DatabasePool, lockPath: String, now: String) throws {
        let migrator = migrator(now: now)
        let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
        try refuseNewer(applied)
        if Set(names).isSubset(of: applied) { return }
        let fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        if fd >= 0 { flock(fd, LOCK_EX) }
        defer {
            if fd >= 0 {
                flock(fd, LOCK_UN)
                close(fd)
            }
        }
        let again = try pool.read { db in try migrator.appliedIdentifiers(db) }
        try refuseNewer(again)
        try migrator.migrate(pool)
    }

    static func refuseNewer(_ applied: Set<String>) throws {
        let unknown = applied.subtracting(names)
        guard unknown.isEmpty else {
            throw CodestratorError(
                .unavailable,
                "database schema has migrations \(unknown.sorted().joined(separator: ", ")) unknown to this codestrator (v\(names.count))",
                expected: "a newer codestrator than \(CodestratorVersion.current)")
        }
    }

    static var schemaVersion: Int { names.count }
}
