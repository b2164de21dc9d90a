import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorMCP
@testable import CodestratorRuntime

/// `codestrator status` on a scripted state: the plan's progress, children with their durations, a child
/// that needs input with its question, the inbox, the merge queue, the lock holder and the last verdict.
@Suite struct StatusViewTests {
    static let now = "2030-01-01T12:00:00.000Z"

    @Test func statusShowsPlanProgressQueueAndNeedsInput() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, rootThread) = try await h.openSession("Please add a checkout flow with tax calculation")
        let epic = try await h.ok("task.create", ["level": "epic", "title": "Shop", "session_id": .int(sid)])
        let feature = try await h.ok("task.create", ["level": "feature", "title": "Cart", "parent_id": epic["id"]!])
        let group = try await h.ok("task.create", ["level": "testgroup", "title": "API", "parent_id": feature["id"]!])
        var cases: [Int] = []
        for (title, steps) in [("add item", ["write test", "implement", "docs"]), ("remove item", ["test", "code"])] {
            let c = try await h.ok(
                "task.create",
                [
                    "level": "case", "title": .string(title), "parent_id": group["id"]!,
                    "steps": .array(steps.map(JSON.string)),
                ])
            cases.append(try #require(c["id"]?.intValue))
        }
        _ = try await h.ok("case.begin", ["case_id": .int(cases[0]), "session_id": .int(sid)])
        for step in ["write test", "implement"] {
            _ = try await h.ok(
                "step.check",
                ["case_id": .int(cases[0]), "step_title": .string(step), "result": "ok", "session_id": .int(sid)])
        }
        let busy = try await h.insertThread(session: sid, role: .worker, status: .running)
        let asking = try await h.insertThread(session: sid, role: .worker, status: .waitingUserAnswer)
        // The session's worktree gets a commit, which is queued and holds the lock.
        let ctx = try await h.ok("session.context", ["session_id": .int(sid)])
        let path = try #require(ctx["session_root_worktree"]?["path"]?.stringValue)
        try "x\n".write(toFile: path + "/x.txt", atomically: true, encoding: .utf8)
        _ = try await CLIRun.git(["-C", path, "add", "-A"])
        _ = try await CLIRun.git(["-C", path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"])
        let q = try await h.ok("merge.main.request", ["session_id": .int(sid), "auto_review": false])
        let item = try #require(q["main_merge_request"]?["id"]?.intValue)
        let mr = try #require(q["main_merge_request"]?["merge_request_id"]?.intValue)
        _ = try await h.ok("merge.main.acquire_lock", ["session_id": .int(sid)])
        try await h.env.store.write { tx in
            try tx.execute("UPDATE sessions SET last_seen_at = ? WHERE id = ?", [Self.now, sid])
            try tx.execute(
                "UPDATE threads SET status_changed_at = ?, title = 'add item' WHERE id = ?",
                ["2030-01-01T11:56:30.000Z", busy])
            try tx.execute(
                "UPDATE threads SET status_changed_at = ?, title = 'remove item', last_response = ? WHERE id = ?",
                ["2030-01-01T10:45:00.000Z", "Which currency\nshould tax use?", asking])
            try tx.execute(
                """
                INSERT INTO inbox_messages (session_id, sender_thread_id, receiver_thread_id, kind, message, created_at)
                VALUES (?, ?, ?, 'question', 'EUR or USD?', ?), (?, ?, ?, 'report', 'done: add item', ?)
                """, [sid, asking, rootThread, Self.now, sid, busy, rootThread, Self.now])
            try tx.execute(
                "UPDATE merge_main_lock SET lease_until = ? WHERE id = 1", ["2030-01-01T12:07:10.000Z"])
            try tx.execute(
                """
                INSERT INTO review_jobs (merge_request_id, session_id, queue_item_id, state, verdict, reviewed_commit,
                  created_at, updated_at, completed_at)
                VALUES (?, ?, ?, 'completed', 'APPROVE', 'abc', ?, ?, ?)
                """, [mr, sid, item, Self.now, Self.now, "2030-01-01T11:58:00.000Z"])
        }
        let reader = try Store(path: h.env.dbPath, clock: FixedClock(try #require(Timestamp.parse(Self.now))))
        let text = try await reader.read { tx in try StatusView.render(tx) }
        let slug = try #require(ctx["session"]?["worktree_slug"]?.stringValue)
        #expect(
            text == """
                session \(sid) · \(slug) · active
                  request: Please add a checkout flow with tax calculation
                  plan: 0/2 cases done
                    [ ] case \(cases[0]) add item 2/3 · in_progress
                    [ ] case \(cases[1]) remove item 0/2 · todo
                  children:
                    #\(busy) worker · running for 3m · add item
                    #\(asking) worker · ‼ NEEDS INPUT for 1h 15m · remove item
                        question: Which currency should tax use?
                  inbox: 2 pending (1 question)
                    ‼ question from #\(asking): EUR or USD?
                merge queue: 1 open
                  1. item \(item) · session \(sid) · codestrator/\(slug) → main · queued
                main merge lock: held by session \(sid) (item \(item)), lease 7m left
                last verdict: APPROVE · review job 1 · merge request \(mr) · 2m ago
                """, "\(text)")
        #expect(slug == "checkout-tax")
    }

    @Test(arguments: [
        (0, "<1m"), (59, "<1m"), (60, "1m"), (3599, "59m"), (3600, "1h 00m"), (7500, "2h 05m"), (90000, "1d 1h"),
    ])
    func durationsAreWholeMinutes(seconds: Int, expected: String) {
        let a = Date(timeIntervalSince1970: 1_900_000_000)
        #expect(
            StatusView.duration(
                from: Timestamp.format(a), to: Timestamp.format(a.addingTimeInterval(TimeInterval(seconds))))
                == expected)
    }
}
