import Foundation

extension TaskService {
    /// Codex runs a worker under `--sandbox workspace-write`, which mounts the worktree's git folder
    /// (`<repo>/.git/worktrees/<slug>`) read-only: the worker can edit files but cannot `git add` or `git commit`,
    /// and no Codex flag lifts it without dropping the sandbox. This server runs outside the sandbox, so when a
    /// Codex worker checks a step `done` it commits the worktree for it (message: the case and the step), and
    /// the commit is the step's artifact. Other workers commit themselves; their worktree is left alone.
    func commitForSandboxedWorker(_ input: StepCheckInput) async throws -> String? {
        guard caller.role == .worker, let tid = caller.threadId, input.status == .done else {
            return nil
        }
        let target: (path: String, message: String)? = try await env.store.read { tx in
            guard let t = try ThreadRecord.load(tx, tid), t.providerType == "codex",
                let w = try WorktreeRecord.load(tx, t.worktreeId), w.status == .active,
                let c = try TaskRecord.load(tx, input.caseId), c.assigneeThreadId == tid
            else { return nil }
            var title = input.stepTitle
            if title == nil, let sid = input.stepId { title = try StepRecord.load(tx, sid)?.title }
            return (w.path, "\(c.title): \(title ?? "step")")
        }
        guard let target else { return nil }
        return try await env.gitWrites.run {
            guard !(try await env.git.dirtyFiles(worktree: target.path, untracked: true)).isEmpty else { return nil }
            return try await env.git.commitAll(worktree: target.path, message: target.message)
        }
    }
}
