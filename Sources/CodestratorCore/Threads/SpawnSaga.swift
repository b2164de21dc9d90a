/// thread.child.spawn as a saga (docs/runtime-guide.md#spawn): plan → reserve → launch → ready → deliver.
/// Every step that leaves something behind pushes its undo; a failure runs the undos, newest first. A
/// program that started and then exited while getting ready is not undone: its thread and worktree stay,
/// to be read (`completed` or `failed`).
struct SpawnSaga: Sendable {
    let threads: ThreadService
    let input: ThreadSpawnInput
    let reviewJobId: Int?

    /// The undos of the steps done so far.
    struct Undo: Sendable {
        private var steps: [@Sendable () async -> Void] = []
        mutating func push(_ step: @escaping @Sendable () async -> Void) { steps.append(step) }
        func run() async { for step in steps.reversed() { await step() } }
    }

    func run() async throws -> JSON {
        let launch = input.launchCodex
        // Plan: everything checked, nothing made yet. Threads whose panes are gone are settled, and panes of
        // terminal threads recycled if room is needed.
        let plan = try await threads.validateSpawn(input, reviewJobId: reviewJobId)
        try await threads.settleAndRecycle(session: plan.session, capacity: plan.capacity, launching: launch)
        if launch { try await threads.checkRoom(plan) }

        // Reserve: the worktree (if the spawn asks for one), then the thread row, counted against capacity in
        // the same transaction.
        var undo = Undo()
        var createdWorktree: WorktreeRecord?
        if plan.createWorktree {
            let created = try await WorkspaceService(env: threads.env).spawnRecord(
                WorktreeSpawnInput(sessionId: plan.session.id, reason: plan.title, slug: plan.title)
            ).0
            createdWorktree = created
            undo.push { await threads.removeWorktree(created) }
        }
        let worktree = createdWorktree ?? plan.worktree
        let threadId: Int
        do {
            threadId = try await threads.insertThread(plan, input: input, worktree: worktree, launch: launch)
        } catch {
            await undo.run()
            throw error
        }
        undo.push { await threads.undoReservation(threadId: threadId) }
        guard launch else {
            return try await threads.spawnOutput(
                threadId, tmux: nil, worktree: worktree, delivery: nil, warnings: [], tmuxVersion: plan.tmuxVersion)
        }

        // Launch, ready, deliver.
        do {
            let (tmux, _) = try await threads.launchPane(threadId: threadId, plan: plan, restartOf: nil)
            return try await threads.readyAndPrompt(
                threadId, input: input, tmux: tmux, worktree: worktree, tmuxVersion: plan.tmuxVersion)
        } catch let e as ThreadService.SpawnExit {
            throw e.error
        } catch {
            // The pane goes first (it is recorded on the thread row), then the row, then the worktree.
            await threads.undoLaunch(threadId: threadId)
            await undo.run()
            throw error
        }
    }
}
