import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore

/// thread.spawn with fakes at the ports: what a spawn leaves behind when it succeeds, and that a failure at
/// any step undoes the steps before it (docs/runtime-guide.md#tmux-sessions-windows-and-panes). No git or tmux runs.
@Suite struct SpawnSagaTests {
    /// The input of a spawn of a generic program that skips the ready check, in a new worktree.
    static func params(_ session: Int, _ extra: [String: JSON] = [:]) -> ThreadSpawnInput {
        var values: [String: JSON] = [
            "session_id": .int(session), "provider": "generic", "runner_kind": "command", "launch_argv": ["sh"],
            "skip_ready_check": true, "title": "child",
        ]
        for (k, v) in extra { values[k] = v }
        return ThreadSpawnInput(Params(values: values))
    }

    /// Rows a spawn writes, by table, to check that an undone spawn left none.
    static func counts(_ w: UnitWorld) async throws -> [String: Int] {
        try await w.store.read { tx in
            var out: [String: Int] = [:]
            for t in ["threads", "worktrees", "thread_directives"] {
                out[t] = try tx.int("SELECT COUNT(*) FROM \(t)") ?? -1
            }
            return out
        }
    }

    @Test func aSpawnCreatesWorktreePaneAndQueuedPrompt() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let out = try await ThreadService(env: w.env).spawn(Self.params(sid))

        let thread = try #require(out["thread"])
        let pane = try #require(thread["tmux_pane_id"]?.stringValue)
        let workdir = try #require(out["worktree"]?["path"]?.stringValue)
        #expect(thread["status"] == "initializing")
        #expect(out["prompt_delivery"] == "queued")
        // The child runs its program in its own worktree, logged, titled, in the session's viewer.
        let p = try #require(w.tmux.pane(pane))
        #expect(p.argv.last == "sh")
        #expect(p.cwd == workdir)
        #expect(p.logPath?.hasSuffix("/thread_\(thread["id"]?.intValue ?? -1).log") == true)
        #expect(p.title.hasPrefix("thread \(thread["id"]?.intValue ?? -1) · worker"))
        #expect(w.git.worktreePaths[workdir] != nil)
        #expect(w.tmux.recorder.methods.contains("newSession"))
        let queued = try await w.store.read { tx in
            try tx.int("SELECT COUNT(*) FROM thread_directives WHERE state = 'queued' AND kind = 'prompt'")
        }
        #expect(queued == 1)
    }

    @Test func aWorktreeThatCannotBeCreatedLeavesNoThread() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let before = try await Self.counts(w)
        w.git.recorder.fail("worktreeAdd", with: FakeGitClient.failure(.other, "disk full"))

        await #expect(throws: CodestratorError.self) { try await ThreadService(env: w.env).spawn(Self.params(sid)) }
        #expect(try await Self.counts(w) == before)
        #expect(!w.tmux.recorder.methods.contains("splitWindow"))
    }

    /// Each tmux step of the launch, made to fail: the thread row, its worktree (directory, branch, row)
    /// and any pane are gone afterwards. (The viewer session itself is made by session.open.)
    @Test(arguments: ["hasSession", "listPanes", "splitWindow"])
    func aLaunchStepThatFailsIsUndone(step: String) async throws {
        try await launchStepFailureIsUndone(step)
    }

    /// A step after the split (tile, title) fails: the launch closes the pane it made (the thread's row does not
    /// name it yet, so the spawn's undo could not), then the spawn's undo removes the row and the worktree.
    @Test(arguments: ["tile", "setPaneTitle"])
    func aStepAfterTheSplitThatFailsClosesThePane(step: String) async throws {
        try await launchStepFailureIsUndone(step)
    }

    func launchStepFailureIsUndone(_ step: String) async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let before = try await Self.counts(w)
        let branchesBefore = w.git.branchNames
        w.tmux.recorder.fail(step, with: FakeTmuxClient.failure(.other, "\(step) broke"), times: 30)

        await #expect(throws: CodestratorError.self) { try await ThreadService(env: w.env).spawn(Self.params(sid)) }
        #expect(try await Self.counts(w) == before, "\(step)")
        #expect(w.git.branchNames == branchesBefore, "\(step)")
        #expect(w.git.recorder.calls("worktreeRemove").count == 1, "\(step)")
        #expect(w.tmux.allPanes.allSatisfy { $0.statusPane }, "a child pane was left after \(step) failed")
    }

    @Test func aPaneStartedOutsideItsWorktreeIsClosedAndTheSpawnUndone() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let before = try await Self.counts(w)
        // tmux starts a pane in the home folder when its directory is missing.
        w.tmux.setCurrentPathOfAllPanes("/home/elsewhere")
        let spawning = Task { try await ThreadService(env: w.env).spawn(Self.params(sid)) }
        let result = await spawning.result
        guard case .failure(let e as CodestratorError) = result else {
            Issue.record("the spawn succeeded")
            return
        }
        #expect(e.what.contains("not in its worktree"))
        #expect(try await Self.counts(w) == before)
        #expect(w.tmux.allPanes.allSatisfy { $0.statusPane })
    }

    @Test func noSpaceTilesTheWindowOnceAndSplitsAgain() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        w.tmux.recorder.fail("splitWindow", with: FakeTmuxClient.failure(.noSpace, "no space for new pane"))

        let out = try await ThreadService(env: w.env).spawn(Self.params(sid))
        #expect(out["thread"]?["tmux_pane_id"]?.stringValue != nil)
        let methods = w.tmux.recorder.methods
        let firstSplit = try #require(methods.firstIndex(of: "splitWindow"))
        let retry = try #require(methods.lastIndex(of: "splitWindow"))
        #expect(retry > firstSplit)
        #expect(methods[firstSplit..<retry].contains("tile"))
    }

    @Test func aSplitTargetClosedMeanwhileIsChosenAgain() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        w.tmux.recorder.fail("splitWindow", with: FakeTmuxClient.failure(.paneNotFound, "can't find pane: %9"))

        let out = try await ThreadService(env: w.env).spawn(Self.params(sid))
        #expect(out["thread"]?["tmux_pane_id"]?.stringValue != nil)
        #expect(w.tmux.recorder.calls("splitWindow").count == 2)
        #expect(w.tmux.recorder.calls("listPanes").count >= 2)
    }

    @Test func noSpaceTwiceAfterTilingFails() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let before = try await Self.counts(w)
        w.tmux.recorder.fail("splitWindow", with: FakeTmuxClient.failure(.noSpace, "no space for new pane"), times: 2)

        await #expect(throws: CodestratorError.self) { try await ThreadService(env: w.env).spawn(Self.params(sid)) }
        #expect(w.tmux.recorder.calls("splitWindow").count == 2)
        #expect(try await Self.counts(w) == before)
    }

    @Test func aProgramThatExitsBeforeItIsReadyKeepsThreadAndWorktree() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let spawning = Task {
            try await ThreadService(env: w.env).spawn(
                Self.params(sid, ["skip_ready_check": false, "ready_timeout_seconds": 5]))
        }
        // The program dies as soon as its pane exists.
        var exited = false
        for _ in 0..<400 where !exited {
            if let p = w.tmux.allPanes.first(where: { !$0.statusPane }) {
                w.tmux.exit(p.id, status: 3)
                exited = true
            }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        #expect(exited)
        guard case .failure(let e as CodestratorError) = await spawning.result else {
            Issue.record("the spawn succeeded")
            return
        }
        #expect(e.what.contains("exited with status 3"))
        let (threads, worktrees, pane) = try await w.store.read { tx in
            (
                try tx.int("SELECT COUNT(*) FROM threads WHERE role = 'worker'"),
                try tx.int("SELECT COUNT(*) FROM worktrees WHERE kind = 'task_branch'"),
                try tx.string("SELECT tmux_pane_id FROM threads WHERE role = 'worker'")
            )
        }
        #expect(threads == 1)
        #expect(worktrees == 1)
        #expect(pane == nil)
        #expect(w.tmux.allPanes.allSatisfy { $0.statusPane })
    }

    @Test func aSpawnWithoutTmuxIsRefusedBeforeAnythingIsCreated() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let before = try await Self.counts(w)
        w.tmux.tmuxVersion = nil

        let e = await #expect(throws: CodestratorError.self) {
            try await ThreadService(env: w.env).spawn(Self.params(sid))
        }
        #expect(e?.code == .unavailable)
        #expect(e?.field == "ensure_tmux")
        #expect(try await Self.counts(w) == before)
    }

    @Test func aMissingProgramIsRefusedBeforeAnythingIsCreated() async throws {
        let w = try UnitWorld(programs: FakeProgramProbe(only: ["git", "tmux"]))
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let before = try await Self.counts(w)
        let calls = w.git.recorder.calls.count
        let tmuxCalls = w.tmux.recorder.calls.count

        await #expect(throws: CodestratorError.self) {
            try await ThreadService(env: w.env).spawn(Self.params(sid, ["launch_argv": ["sh"]]))
        }
        await #expect(throws: CodestratorError.self) {
            try await ThreadService(env: w.env).spawn(
                Self.params(sid, ["provider": "codex", "runner_kind": .null, "launch_argv": .null]))
        }
        #expect(try await Self.counts(w) == before)
        #expect(!w.git.recorder.calls.dropFirst(calls).contains { $0.method == "worktreeAdd" })
        #expect(!w.tmux.recorder.calls.dropFirst(tmuxCalls).contains { $0.method == "splitWindow" })
    }
}
