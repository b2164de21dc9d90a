import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorMCP
@testable import CodestratorRuntime

/// Identity rules for child roles, the main merge lock's lease takeover, and per-repository provider
/// settings.
@Suite(.serialized) struct RoleAndLockTests {
    @Test func aWorkerCannotCheckAnotherThreadsCaseOrReleaseAnotherOwnersLock() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, _) = try await h.openSession("identity")
        let w1 = try await h.insertThread(session: sid, role: .worker)
        let w2 = try await h.insertThread(session: sid, role: .worker)
        let epic = try await h.ok("task.create", ["level": "epic", "title": "E", "session_id": .int(sid)])
        let f = try await h.ok("task.create", ["level": "feature", "title": "F", "parent_id": epic["id"]!])
        let g = try await h.ok("task.create", ["level": "testgroup", "title": "G", "parent_id": f["id"]!])
        let c = try await h.ok("task.create", ["level": "case", "title": "C", "parent_id": g["id"]!, "steps": ["s"]])
        let worker1 = h.child(.worker, thread: w1)
        let worker2 = h.child(.worker, thread: w2)
        _ = try await h.ok("case.begin", ["case_id": c["id"]!], as: worker1)
        let e = try await h.err("step.check", ["case_id": c["id"]!, "step_title": "s", "result": "r"], as: worker2)
        #expect(e.code == .forbidden, "\(e.message)")
        let lock = try await h.ok("lock.acquire", ["scope_type": "file", "scope_path": "src/a.swift"], as: worker1)
        #expect(lock["owner_session"] == .string("thread:\(w1)"))
        let r = try await h.err("lock.release", ["lock_id": lock["id"]!], as: worker2)
        #expect(r.code == .forbidden, "\(r.message)")
        let imp = try await h.err(
            "lock.acquire", ["scope_type": "file", "scope_path": "b", "owner_session": .string("thread:\(w1)")],
            as: worker2)
        #expect(imp.code == .forbidden, "\(imp.message)")
        // Methods outside the role are refused both ways.
        let merge = try await h.err("merge.main.request", ["session_id": .int(sid)], as: worker1)
        #expect(merge.code == .forbidden)
    }

    @Test func aLapsedMainMergeLockIsTakenOverByTheQueueHead() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (first, _) = try await h.openSession("first landing")
        let (second, _) = try await h.openSession("second landing")
        for sid in [first, second] {
            let ctx = try await h.ok("session.context", ["session_id": .int(sid)])
            let path = try #require(ctx["session_root_worktree"]?["path"]?.stringValue)
            try "change \(sid)\n".write(toFile: path + "/f\(sid).txt", atomically: true, encoding: .utf8)
            _ = try await CLIRun.git(["-C", path, "add", "-A"])
            _ = try await CLIRun.git(["-C", path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c"])
            _ = try await h.ok("merge.main.request", ["session_id": .int(sid), "auto_review": false])
        }
        let held = try await h.ok("merge.main.acquire_lock", ["session_id": .int(first), "ttl_seconds": 60])
        #expect(held["holder_session_id"] == .int(first))
        // The first session goes away without releasing; its item is cancelled by cleanup.
        _ = try await h.ok("session.cleanup", ["session_id": .int(first)])
        _ = try await h.ok("merge.main.acquire_lock", ["session_id": .int(second), "ttl_seconds": 60])
        // A live lease of another live session is a conflict; once it lapses it is taken over.
        let (third, _) = try await h.openSession("third landing")
        try await h.env.store.write { tx in
            try tx.execute(
                "UPDATE merge_main_lock SET holder_session_id = ?, queue_item_id = NULL, lease_until = ? WHERE id = 1",
                [third, "2999-01-01T00:00:00.000Z"])
        }
        let busy = try await h.err("merge.main.acquire_lock", ["session_id": .int(second)])
        #expect(busy.code == .conflict && busy.message.contains("held by session \(third)"), "\(busy.message)")
        try await h.env.store.write { tx in
            try tx.execute("UPDATE merge_main_lock SET lease_until = ? WHERE id = 1", ["2000-01-01T00:00:00.000Z"])
        }
        let taken = try await h.ok("merge.main.acquire_lock", ["session_id": .int(second)])
        #expect(taken["holder_session_id"] == .int(second) && taken["reentered"] == .bool(false))
    }

    @Test func aClosedHoldersLockIsReleasedAtOnceAndItsItemMarked() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (first, _) = try await h.openSession("first landing")
        let (second, _) = try await h.openSession("second landing")
        var items: [Int] = []
        for sid in [first, second] {
            let ctx = try await h.ok("session.context", ["session_id": .int(sid)])
            let path = try #require(ctx["session_root_worktree"]?["path"]?.stringValue)
            try "change \(sid)\n".write(toFile: path + "/f\(sid).txt", atomically: true, encoding: .utf8)
            _ = try await CLIRun.git(["-C", path, "add", "-A"])
            _ = try await CLIRun.git(["-C", path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c"])
            let q = try await h.ok("merge.main.request", ["session_id": .int(sid), "auto_review": false])
            items.append(try #require(q["main_merge_request"]?["id"]?.intValue))
        }
        _ = try await h.ok("merge.main.acquire_lock", ["session_id": .int(first), "ttl_seconds": 600])
        // The holder's session is closed behind the lock's back (another process): the lease is long.
        try await h.env.store.write { tx in
            try tx.execute("UPDATE sessions SET status = 'closed', closed_at = ? WHERE id = ?", [tx.now, first])
        }
        let line = try await h.env.store.write { tx in try MergeService.releaseDeadHolder(tx) }
        #expect(
            line == "main merge lock: holder session \(first) is closed; released, queue item \(items[0]) cancelled")
        let item = try await h.ok("merge.main.status", ["request_id": .int(items[0])])
        #expect(item["item"]?["state"] == "cancelled")
        #expect(item["item"]?["error_message"]?.stringValue?.contains("holder session \(first) is closed") == true)
        let taken = try await h.ok("merge.main.acquire_lock", ["session_id": .int(second)])
        #expect(taken["holder_session_id"] == .int(second))
    }

    @Test func repositoryProviderSettingsApplyUnderTheSpawnsOwn() throws {
        let merged = try ProviderOverrides.merged(
            repository: ["model": "m1", "env": ["A": "1"], "sim_scenario": "echo"],
            spawn: ["model": "m2", "env": ["B": "2"]])
        #expect(merged["model"] == "m2")
        #expect(merged["sim_scenario"] == "echo")
        #expect(merged["env"]?["A"] == "1" && merged["env"]?["B"] == "2")
    }
}

enum CLIRun {
    static func git(_ args: [String]) async throws -> String {
        let r = try await ProcessRunner.run(["git"] + args)
        #expect(r.ok, "git \(args): \(r.err)")
        return r.out
    }
}
