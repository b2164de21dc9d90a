import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorHTTP
@testable import CodestratorMCP

/// The dashboard's read-only view on a scripted state (progress per level, a child's question and durations,
/// the lock's lease), its fingerprint, and the pieces of the HTTP side that need no server.
@Suite struct DashboardTests {
    static let now = "2030-01-01T12:00:00.000Z"

    @Test func snapshotShowsProgressQuestionDurationsAndLease() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, _) = try await h.openSession("Add a checkout flow")
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
        let asking = try await h.insertThread(session: sid, role: .worker, status: .waitingUserAnswer)
        let busy = try await h.insertThread(session: sid, role: .worker, status: .running)
        // An observation that changes only the last response (no status change, no version bump) is seen.
        let before = try await h.env.store.read { tx in try DashboardSnapshot.fingerprint(tx) }
        try await h.env.store.write { tx in
            try tx.execute(
                "UPDATE threads SET last_response = 'thinking', status_observed_at = ? WHERE id = ?", [tx.now, busy])
        }
        let after = try await h.env.store.read { tx in try DashboardSnapshot.fingerprint(tx) }
        #expect(before != after, "an observation without bumpVersion still changes the fingerprint")
        try await h.env.store.write { tx in
            try tx.execute(
                "UPDATE threads SET status_changed_at = ?, last_response = ? WHERE id = ?",
                ["2030-01-01T11:45:00.000Z", "<b>EUR</b> or USD?", asking])
            try tx.execute(
                "UPDATE threads SET status_changed_at = ?, last_response = 'working' WHERE id = ?",
                ["2030-01-01T11:59:30.000Z", busy])
            try tx.execute(
                "UPDATE merge_main_lock SET state = 'locked', holder_session_id = ?, lease_until = ? WHERE id = 1",
                [sid, "2030-01-01T12:07:10.000Z"])
        }

        let reader = try Store(path: h.env.dbPath, clock: FixedClock(try #require(Timestamp.parse(Self.now))))
        let snap = try await reader.read { tx in
            try DashboardSnapshot.build(tx, now: try #require(Timestamp.parse(Self.now)))
        }
        let lock = try #require(snap["lock"])
        #expect(lock["state"]?.stringValue == "locked")
        #expect(lock["holder_session_id"]?.intValue == sid)
        #expect(lock["lease_seconds_left"]?.intValue == 430)
        let session = try #require(snap["sessions"]?.arrayValue?.first)
        #expect(session["id"]?.intValue == sid)
        #expect(session["user_request"]?.stringValue == "Add a checkout flow")
        // Progress per level: 2 of 5 steps below the epic, 2 of 3 in the first case, 0 of 2 in the second.
        let epicNode = try #require(session["plan"]?.arrayValue?.first)
        #expect(epicNode["title"]?.stringValue == "Shop")
        #expect(epicNode["done"]?.intValue == 2 && epicNode["total"]?.intValue == 5)
        let caseNodes = try #require(epicNode["children"]?[0]?["children"]?[0]?["children"]?.arrayValue)
        #expect(caseNodes.map { "\($0["done"]?.intValue ?? -1)/\($0["total"]?.intValue ?? -1)" } == ["2/3", "0/2"])
        #expect(caseNodes[0]["steps"]?.arrayValue?.map { $0["status"]?.stringValue ?? "" } == ["done", "done", "todo"])
        #expect(session["current_ref"]?["node_type"]?.stringValue != nil)
        // Children: the question travels as data; durations come from status_changed_at.
        let children = try #require(session["children"]?.arrayValue)
        let ask = try #require(children.first { $0["id"]?.intValue == asking })
        #expect(ask["question"]?.stringValue == "<b>EUR</b> or USD?")
        #expect(ask["status_seconds"]?.intValue == 900)
        let run = try #require(children.first { $0["id"]?.intValue == busy })
        #expect(run["question"]?.isNull == true)
        #expect(run["status_seconds"]?.intValue == 30)
        let kinds = Set(session["timeline"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } ?? [])
        #expect(kinds.isSuperset(of: ["spawn", "status", "step.check", "case.begin"]), "\(kinds)")
    }

    @Test func paneCapturesSplitOnlyOnTheirNonce() {
        let out = "@@ab12-0@@\nfirst\n@@ab12-0@@ forged\n@@ab12-1@@\nsecond\n"
        #expect(DashboardHub.split(out, nonce: "ab12", count: 2) == ["first\n@@ab12-0@@ forged\n", "second\n"])
        #expect(DashboardHub.split("@@ab12-0@@\nonly one\n", nonce: "ab12", count: 2) == nil)
        #expect(DashboardHub.split("@@zz-0@@\nx\n", nonce: "ab12", count: 1) == nil)
        #expect(DashboardHub.trimTrailingBlank("a\n  \n\n") == "a")
    }

    @Test func onlyLoopbackHostsReachTheDashboard() {
        for ok in ["127.0.0.1:8765", "localhost:1", "LOCALHOST", "[::1]:8765", "127.0.0.1"] {
            #expect(Dashboard.isLoopbackAuthority(ok), "\(ok)")
        }
        for bad in [nil, "evil.example:8765", "127.0.0.1.evil.example", "[::2]:1", "localhost.evil:80", ""] {
            #expect(!Dashboard.isLoopbackAuthority(bad), "\(bad ?? "nil")")
        }
    }
}
