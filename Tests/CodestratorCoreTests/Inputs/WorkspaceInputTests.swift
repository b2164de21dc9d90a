import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// orch_workspace's worktree inputs decoded from a call's validated parameters: the registry's defaults arrive,
/// given values are taken, and a missing required value is `invalid_params` naming the field.
@Suite struct WorkspaceInputTests {
    @Test func decisionFactorsDefaultToZero() throws {
        let none = WorktreeDecisionInput(try InputTesting.validated("scheduler.decide_worktree", [:]))
        #expect(none == WorktreeDecisionInput())
        #expect(none.changedFiles == 0 && none.conflictingPaths == 0)
        let some = WorktreeDecisionInput(
            try InputTesting.validated("scheduler.decide_worktree", ["risk": 2, "estimate_minutes": 30]))
        #expect(some.risk == 2)
        #expect(some.estimateMinutes == 30)
        #expect(some.parallelWorkers == 0)
    }

    @Test func createNeedsABranchAndDefaultsToOnDisk() throws {
        let input = try WorktreeCreateInput(
            InputTesting.validated("worktree.create", ["branch": "feat/x", "task_id": 3]))
        #expect(input.branch == "feat/x")
        #expect(input.taskId == 3)
        #expect(input.createOnDisk)
        #expect(input.path == nil && input.baseRef == nil && input.sessionId == nil)
        let planned = try WorktreeCreateInput(
            InputTesting.validated("worktree.create", ["branch": "b", "create_on_disk": false]))
        #expect(!planned.createOnDisk)
        #expect(InputTesting.missingField(WorktreeCreateInput.init) == "branch")
    }

    @Test func listGetsTheRegistryDefaults() throws {
        let input = WorktreeListInput(try InputTesting.validated("worktree.list", [:]))
        #expect(input == WorktreeListInput())
        #expect(input.page == ListPage(limit: 100, offset: 0))
        #expect(!input.includeRemoved && !input.withGitStatus)
        let given = WorktreeListInput(
            try InputTesting.validated(
                "worktree.list",
                ["session_id": 2, "kind": "task_branch", "with_git_status": true, "limit": 5, "offset": 10]))
        #expect(given.sessionId == 2)
        #expect(given.kind == "task_branch")
        #expect(given.withGitStatus)
        #expect(given.page == ListPage(limit: 5, offset: 10))
    }

    @Test func mergeToParentKeepsTheCommitOptionsApart() throws {
        let input = WorktreeMergeInput(try InputTesting.validated("worktree.merge_to_parent", [:]))
        #expect(input == WorktreeMergeInput(worktreeId: nil))
        #expect(!input.includeUncommitted)
        let given = WorktreeMergeInput(
            try InputTesting.validated(
                "worktree.merge_to_parent",
                ["worktree_id": 4, "include_uncommitted": true, "commit_message": "c", "message": "m"]))
        #expect(given.worktreeId == 4)
        #expect(given.includeUncommitted)
        #expect(given.commitMessage == "c")
        #expect(given.message == "m")
    }

    @Test func removeGetsTheRegistryDefaults() throws {
        let input = try WorktreeRemoveInput(InputTesting.validated("worktree.remove", ["worktree_id": 8]))
        #expect(input == WorktreeRemoveInput(worktreeId: 8, force: false, deleteBranch: true))
        #expect(InputTesting.missingField(WorktreeRemoveInput.init) == "worktree_id")
    }
}
