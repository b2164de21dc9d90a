import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore

/// Reconciliation's decisions (docs/runtime-guide.md#reconciliation) with fakes and a fixed clock: debris older
/// than the grace period is repaired, the same thing younger is another process's work in flight and is left.
@Suite struct ReconcilerTests {
    /// A worker row of `session` as an interrupted launch leaves it: `launching_since` set, `planned`.
    static func launchingThread(_ w: UnitWorld, session: Int) async throws -> Int {
        try await w.store.write { tx in
            let parent = try tx.int("SELECT root_thread_id FROM sessions WHERE id = ?", [session])
            return try tx.insert(
                """
                INSERT INTO threads (session_id, parent_thread_id, role, status, status_changed_at, status_source,
                  title, provider_type, launching_since, created_at, updated_at)
                VALUES (?, ?, 'worker', 'planned', ?, 'spawn', 'child', 'generic', ?, ?, ?)
                """, [session, parent, tx.now, tx.now, tx.now, tx.now])
        }
    }

    static func reconcile(_ w: UnitWorld) async throws -> [String] { try await Reconciler(env: w.env).run() }

    @Test func anInterruptedLaunchFailsOnlyAfterTheGracePeriod() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let id = try await Self.launchingThread(w, session: sid)

        #expect(try await Self.reconcile(w).isEmpty)
        #expect(try await w.thread(id).status == .planned)

        w.clock.advance(by: Reconciler.graceSeconds + 1)
        #expect(try await Self.reconcile(w) == ["thread \(id): launch interrupted"])
        let t = try await w.thread(id)
        #expect(t.status == .failed)
        #expect(t.failureReason == "launch interrupted")
    }

    @Test func aDeliveryCutShortFailsAfterTheGracePeriod() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let (id, _) = try await w.spawnCodex(session: sid, screen: try Screens.codex("busy"))
        let directive = try await w.store.write { tx in
            try tx.insert(
                """
                INSERT INTO thread_directives (thread_id, kind, mode, text, state, created_at, claimed_at)
                VALUES (?, 'directive', 'queue', 'x', 'delivering', ?, ?)
                """, [id, tx.now, tx.now])
        }
        #expect(!(try await Self.reconcile(w)).contains { $0.hasPrefix("directive") })

        w.clock.advance(by: Reconciler.graceSeconds + 1)
        #expect(try await Self.reconcile(w).contains("directive \(directive): delivery interrupted"))
        #expect(try await w.directives(id).last?.state == "failed")
    }

    @Test func aWorktreeWhoseDirectoryVanishedIsMarkedRemoved() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let out = try await ThreadService(env: w.env).spawn(
            SpawnSagaTests.params(sid, ["launch_codex": false]))
        let wid = try #require(out["worktree"]?["id"]?.intValue)
        let path = try #require(out["worktree"]?["path"]?.stringValue)
        try FileManager.default.removeItem(atPath: path)

        #expect(try await Self.reconcile(w).contains("worktree \(wid): directory gone, marked removed"))
        let status = try await w.store.read { tx in try tx.string("SELECT status FROM worktrees WHERE id = ?", [wid]) }
        #expect(status == "removed")
    }

    @Test func anApprovedItemAlreadyInTheTargetIsRecordedMerged() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let a = try await MainMergeLockTests.queuedSession(w, "first")
        _ = try await MainMergeLockTests.acquire(w, a.session)
        // A holder killed inside its release after git merged: the reviewed commit is the target's tip.
        let tip = try #require(try await w.git.resolveCommit(repo: w.repo, rev: "refs/heads/main"))
        try await w.store.write { tx in
            try tx.execute(
                "UPDATE merge_main_queue SET state = 'approved', reviewed_commit = ?, updated_at = ? WHERE id = ?",
                [tip, tx.now, a.item])
        }
        #expect(!(try await Self.reconcile(w)).contains { $0.hasPrefix("queue item") })

        w.clock.advance(by: Reconciler.graceSeconds + 1)
        // The session heartbeats meanwhile: only the merge is repaired, not its holder.
        try await w.store.write { tx in
            try tx.execute("UPDATE sessions SET last_seen_at = ? WHERE id = ?", [tx.now, a.session])
        }
        let repairs = try await Self.reconcile(w)
        #expect(repairs.contains("queue item \(a.item): merge found in main, recorded"), "\(repairs)")
        let (state, lock) = try await w.store.read { tx in
            (
                try tx.string("SELECT state FROM merge_main_queue WHERE id = ?", [a.item]),
                try tx.string("SELECT state FROM merge_main_lock WHERE id = 1")
            )
        }
        #expect(state == "merged")
        #expect(lock == "unlocked")
    }

    /// An unrecorded pane in a session's viewer is another process's launch while its program is younger than the
    /// grace period (asked of the adapter only for such panes), debris once older.
    @Test func anUnrecordedPaneIsKilledOnlyOnceItsProgramIsOlderThanTheGracePeriod() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let viewer = try #require(try await w.store.read { tx in try SessionRecord.load(tx, sid)?.tmuxSessionName })
        let young = w.tmux.addPane(session: viewer, startedAt: Date())
        let old = w.tmux.addPane(session: viewer, startedAt: Date(timeIntervalSince1970: 0))

        let repairs = try await Self.reconcile(w)
        #expect(repairs == ["pane \(old) in \(viewer): no thread records it; killed"])
        #expect(w.tmux.paneIds(session: viewer).contains(young))
        #expect(!w.tmux.paneIds(session: viewer).contains(old))
        // The viewer's own status pane is never debris.
        #expect(w.tmux.paneIds(session: viewer).count == 2)
    }

    /// A closed session's viewer is killed; one whose owner option names an open session (a newer viewer that
    /// took the name or the id) is left.
    @Test func aViewerIsKilledOnlyWhileItStillBelongsToAClosedSession() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (first, _) = try await w.openSession("first")
        let (second, _) = try await w.openSession("second")
        let names = try await w.store.read { tx in
            (try SessionRecord.load(tx, first)?.tmuxSessionName, try SessionRecord.load(tx, second)?.tmuxSessionName)
        }
        let (closedViewer, openViewer) = (try #require(names.0), try #require(names.1))
        try await w.store.write { tx in
            try tx.execute("UPDATE sessions SET status = 'closed', closed_at = ? WHERE id = ?", [tx.now, first])
        }
        let repairs = try await Self.reconcile(w)
        #expect(repairs.contains("tmux session \(closedViewer): its Codestrator session \(first) is closed; killed"))
        #expect(w.tmux.paneIds(session: closedViewer).isEmpty)
        #expect(!w.tmux.paneIds(session: openViewer).isEmpty)
        #expect(!repairs.contains { $0.contains(openViewer) })
    }
}
