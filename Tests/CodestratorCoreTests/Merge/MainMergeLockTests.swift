import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore

/// The main merge queue and its lock (docs/runtime-guide.md#merge-queue-and-main-merge-lock) with the fake git and
/// a fixed clock: queue order, re-entry, who may release, the merge at release, and a dead holder's lock
/// handed on. No git runs.
@Suite struct MainMergeLockTests {
    /// Opens a session, gives its root branch a commit main lacks, and queues it for main.
    static func queuedSession(_ w: UnitWorld, _ request: String) async throws -> (session: Int, item: Int) {
        let (sid, _) = try await w.openSession(request)
        let root = try await w.store.read { tx in
            try tx.string(
                "SELECT w.path FROM worktrees w JOIN sessions s ON s.session_root_worktree_id = w.id WHERE s.id = ?",
                [sid])
        }
        _ = try await w.git.commitAll(worktree: try #require(root), message: "work")
        var input = MergeMainRequestInput(sessionId: sid)
        input.autoReview = false
        let out = try await MergeService(env: w.env).mainRequest(input)
        return (sid, try #require(out["main_merge_request"]?["id"]?.intValue))
    }

    static func acquire(_ w: UnitWorld, _ session: Int) async throws -> JSON {
        try await MergeService(env: w.env).acquireLock(MergeAcquireLockInput(sessionId: session, dispatchReview: false))
    }

    static func release(_ w: UnitWorld, _ session: Int) async throws -> JSON {
        try await MergeService(env: w.env).releaseLock(MergeReleaseLockInput(sessionId: session))
    }

    /// The review's verdict, as a reviewer records it: the item approved at the source branch's tip.
    static func approve(_ w: UnitWorld, item: Int) async throws {
        let source = try await w.store.read { tx in
            try tx.string("SELECT source_branch FROM merge_main_queue WHERE id = ?", [item])
        }
        let tip = try await w.git.resolveCommit(repo: w.repo, rev: "refs/heads/" + (source ?? ""))
        try await w.store.write { tx in
            try tx.execute(
                "UPDATE merge_main_queue SET state = 'approved', reviewed_commit = ? WHERE id = ?", [tip, item])
        }
    }

    @Test func onlyTheHeadOfTheQueueTakesTheLockAndItsHolderReenters() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let a = try await Self.queuedSession(w, "first")
        let b = try await Self.queuedSession(w, "second")

        #expect(await errorCode { try await Self.acquire(w, b.session) } == .conflict)
        let taken = try await Self.acquire(w, a.session)
        #expect(taken["reentered"] == false)
        #expect(taken["holder_session_id"]?.intValue == a.session)
        #expect(try await Self.acquire(w, a.session)["reentered"] == true)
        #expect(await errorCode { try await Self.release(w, b.session) } == .forbidden)
    }

    @Test func anApprovedItemIsMergedAtReleaseAndTheNextTakesTheLock() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let a = try await Self.queuedSession(w, "first")
        let b = try await Self.queuedSession(w, "second")
        _ = try await Self.acquire(w, a.session)
        try await Self.approve(w, item: a.item)

        let out = try await Self.release(w, a.session)
        #expect(out["result"] == "merged")
        #expect(out["state"] == "unlocked")
        #expect(w.git.recorder.calls("merge").map { $0.args.first } == [w.repo])
        let state = try await w.store.read { tx in
            try tx.string("SELECT state FROM merge_main_queue WHERE id = ?", [a.item])
        }
        #expect(state == "merged")
        #expect(try await Self.acquire(w, b.session)["holder_session_id"]?.intValue == b.session)
    }

    @Test func aConflictAtReleaseFailsTheItemAndFreesTheLock() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let a = try await Self.queuedSession(w, "first")
        _ = try await Self.acquire(w, a.session)
        try await Self.approve(w, item: a.item)
        w.git.scriptMerges([.conflict(["Sources/a.swift"])])

        let out = try await Self.release(w, a.session)
        #expect(out["result"] == "conflict")
        #expect(out["conflicting_files"] == ["Sources/a.swift"])
        #expect(out["state"] == "unlocked")
        let state = try await w.store.read { tx in
            try tx.string("SELECT state FROM merge_main_queue WHERE id = ?", [a.item])
        }
        #expect(state == "failed")
    }

    @Test func aReviewOfAnotherCommitIsStaleAndMergesNothing() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let a = try await Self.queuedSession(w, "first")
        _ = try await Self.acquire(w, a.session)
        try await Self.approve(w, item: a.item)
        // The source branch moved after the review.
        let root = try await w.store.read { tx in
            try tx.string("SELECT w.path FROM worktrees w WHERE w.kind = 'session_root'")
        }
        _ = try await w.git.commitAll(worktree: try #require(root), message: "more")

        let out = try await Self.release(w, a.session)
        #expect(out["result"] == "stale_review")
        #expect(w.git.recorder.calls("merge").isEmpty)
    }

    @Test func aStaleHolderLosesTheLockToTheNextItem() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let a = try await Self.queuedSession(w, "first")
        let b = try await Self.queuedSession(w, "second")
        _ = try await Self.acquire(w, a.session)
        // B keeps heartbeating; A's heartbeat lapses.
        w.clock.advance(by: 3600)
        try await w.store.write { tx in
            try tx.execute("UPDATE sessions SET last_seen_at = ? WHERE id = ?", [tx.now, b.session])
        }

        let taken = try await Self.acquire(w, b.session)
        #expect(taken["holder_session_id"]?.intValue == b.session)
        let (state, why) = try await w.store.read { tx in
            let r = try tx.row("SELECT state, error_message FROM merge_main_queue WHERE id = ?", [a.item])
            return (r?.string("state"), r?.optString("error_message"))
        }
        #expect(state == "cancelled")
        #expect(why?.contains("holder session \(a.session)") == true)
    }

    @Test func aClosedSessionsItemLeavesTheHeadOfTheQueue() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let a = try await Self.queuedSession(w, "first")
        let b = try await Self.queuedSession(w, "second")
        try await w.store.write { tx in
            try tx.execute("UPDATE sessions SET status = 'closed' WHERE id = ?", [a.session])
        }

        #expect(try await Self.acquire(w, b.session)["holder_session_id"]?.intValue == b.session)
        let state = try await w.store.read { tx in
            try tx.string("SELECT state FROM merge_main_queue WHERE id = ?", [a.item])
        }
        #expect(state == "cancelled")
    }
}
