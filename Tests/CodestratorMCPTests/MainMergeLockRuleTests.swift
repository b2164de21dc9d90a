import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore

/// `MainMergeLock.acquire` is the one rule both ways in use: `merge.main.acquire_lock` and the review dispatch
/// of `merge.review.request_auto`. The reviewer spawns here fail on purpose (provider generic without a
/// command) so that the dispatch's undo shows too.
@Suite struct MainMergeLockRuleTests {
    /// Two sessions with a commit in their session roots, each queued (no automatic review).
    func twoQueuedSessions(_ h: Harness) async throws -> [(session: Int, item: Int, mergeRequest: Int)] {
        var out: [(Int, Int, Int)] = []
        for name in ["first landing", "second landing"] {
            let (sid, _) = try await h.openSession(name)
            let ctx = try await h.ok("session.context", ["session_id": .int(sid)])
            let path = try #require(ctx["session_root_worktree"]?["path"]?.stringValue)
            try "change \(sid)\n".write(toFile: path + "/f\(sid).txt", atomically: true, encoding: .utf8)
            _ = try await CLIRun.git(["-C", path, "add", "-A"])
            _ = try await CLIRun.git(["-C", path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c"])
            let q = try await h.ok("merge.main.request", ["session_id": .int(sid), "auto_review": false])
            out.append(
                (
                    sid, try #require(q["main_merge_request"]?["id"]?.intValue),
                    try #require(q["merge_request"]?["id"]?.intValue)
                ))
        }
        return out
    }

    @Test func aReviewDispatchFreesADeadHoldersLockLikeAnAcquireAndUndoesItsGrant() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let q = try await twoQueuedSessions(h)
        _ = try await h.ok("merge.main.acquire_lock", ["session_id": .int(q[0].session), "ttl_seconds": 600])
        // The holder's session is closed behind the lock's back: its lease still has ten minutes.
        try await h.env.store.write { tx in
            try tx.execute("UPDATE sessions SET status = 'closed', closed_at = ? WHERE id = ?", [tx.now, q[0].session])
        }
        let e = try await h.err(
            "merge.review.request_auto",
            ["session_id": .int(q[1].session), "merge_request_id": .int(q[1].mergeRequest), "provider": "generic"])
        // Past the lock (not `conflict` on a live lease): the spawn itself failed.
        #expect(e.code == .invalidParams && e.message.contains("runner_kind command needs launch_argv"), "\(e.message)")
        let first = try await h.ok("merge.main.status", ["request_id": .int(q[0].item)])
        #expect(first["item"]?["state"] == "cancelled")
        #expect(
            first["item"]?["error_message"]?.stringValue?.contains("holder session \(q[0].session) is closed") == true)
        // The dispatch took the lock, and its undo gave it back with the item queued again.
        let second = try await h.ok("merge.main.status", ["request_id": .int(q[1].item)])
        #expect(second["lock"]?["state"] == "unlocked" && second["lock"]?["holder_session_id"] == .null)
        #expect(second["item"]?["state"] == "queued")
        #expect(second["review_job"]?["state"] == "failed")
    }

    @Test func aHolderDispatchingItsOwnReviewKeepsItsLeaseAndTheLock() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let q = try await twoQueuedSessions(h)
        // The first session's item is at the head; it holds the lock with a long lease.
        let held = try await h.ok("merge.main.acquire_lock", ["session_id": .int(q[0].session), "ttl_seconds": 3600])
        let lease = try #require(held["lease_until"]?.stringValue)
        _ = try await h.err(
            "merge.review.request_auto",
            ["session_id": .int(q[0].session), "merge_request_id": .int(q[0].mergeRequest), "provider": "generic"])
        let after = try await h.ok("merge.main.status", ["request_id": .int(q[0].item)])
        #expect(after["lock"]?["holder_session_id"] == .int(q[0].session))
        #expect(after["lock"]?["lease_until"]?.stringValue == lease, "the dispatch must not shorten the lease")
        // The second session, not at the head, is refused by the same rule as an acquire.
        let refused = try await h.err(
            "merge.review.request_auto",
            ["session_id": .int(q[1].session), "merge_request_id": .int(q[1].mergeRequest), "provider": "generic"])
        #expect(refused.code == .conflict && refused.message.contains("is ahead"))
    }
}
