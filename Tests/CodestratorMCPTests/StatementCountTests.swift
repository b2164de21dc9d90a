import CodestratorTesting
import Foundation
import GRDB
import Testing

@testable import CodestratorCore

/// The statements one call runs on the writer connection, read from SQLite's own trace: the count stays
/// flat (no re-reading of what the call just wrote), which matters more the day the store is a server
/// database a network round trip away.
@Suite struct StatementCountTests {
    /// The SQL of every statement the writer connection starts, triggers left out.
    final class WriterTrace: @unchecked Sendable {
        private let lock = NSLock()
        private var recorded: [String] = []
        private let store: Store

        init(_ store: Store) {
            self.store = store
            store.pool.writeWithoutTransaction { db in
                db.trace { [self] event in
                    guard case .statement(let s) = event, !s.sql.hasPrefix("--") else { return }
                    lock.withLock { recorded.append(s.sql) }
                }
            }
        }

        func stop() -> [String] {
            store.pool.writeWithoutTransaction { db in db.trace(nil) }
            return lock.withLock { recorded }
        }
    }

    @Test func stepCheckRunsEachStatementOnce() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, _) = try await h.openSession("count statements")
        var parent = JSON.int(0)
        for level in ["epic", "feature", "testgroup"] {
            let made = try await h.ok(
                "task.create",
                level == "epic"
                    ? ["level": "epic", "title": "counted", "session_id": .int(sid)]
                    : ["level": .string(level), "title": "counted", "parent_id": parent])
            parent = .int(try #require(made["id"]?.intValue))
        }
        let made = try await h.ok(
            "task.create",
            ["level": "case", "title": "counted", "parent_id": parent, "steps": ["one", "two", "three"]])
        let caseId = try #require(made["id"]?.intValue)
        let begun = try await h.ok("case.begin", ["case_id": .int(caseId)])
        let steps = try #require(begun["steps"]?.arrayValue?.compactMap { $0["id"]?.intValue })

        let trace = WriterTrace(h.env.store)
        let checked = try await h.ok(
            "step.check", ["case_id": .int(caseId), "step_id": .int(steps[0]), "result": "ok"])
        let statements = trace.stop()

        // The answer is the one the re-reading version gave.
        #expect(checked["status"] == "done" && checked["next_step"]?["id"]?.intValue == steps[1])
        #expect(checked["steps_progress"] == .obj(["total": 3, "todo": 2, "done": 1, "failed": 0, "skipped": 0]))
        let version = try await h.env.store.read { tx in
            try tx.int("SELECT version FROM current_refs WHERE session_id = ?", [sid])
        }
        #expect(version != nil && checked["current_ref_version"]?.intValue == version)
        // No statement runs twice, and the whole call (BEGIN … COMMIT) stays at its measured size.
        let repeated = Dictionary(grouping: statements, by: { $0 }).filter { $0.value.count > 1 }.keys
        #expect(repeated.isEmpty, "run more than once: \(repeated.sorted())")
        #expect(statements.count <= 12, "\(statements.count) statements:\n\(statements.joined(separator: "\n"))")
        print("step.check statements: \(statements.count)\n  " + statements.joined(separator: "\n  "))
    }
}
