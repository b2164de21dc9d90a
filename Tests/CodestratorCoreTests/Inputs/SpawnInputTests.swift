import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// Typed inputs decoded from a call's validated parameters: the registry's defaults arrive, and a required id
/// that is missing is an error, never 0.
@Suite struct SpawnInputTests {
    @Test func threadSpawnGetsTheRegistryDefaults() throws {
        let input = ThreadSpawnInput(try InputTesting.validated("thread.child.spawn", ["session_id": 4]))
        #expect(input.sessionId == 4)
        #expect(input.role == .worker)
        #expect(input.launchCodex)
        #expect(input.ensureTmux)
        #expect(!input.skipReadyCheck)
        #expect(input.readyTimeoutSeconds == 30)
        #expect(input.createWorktree == nil)
        #expect(input.scopeCaseIds.isEmpty)
    }

    @Test func threadSpawnTakesWhatTheCallerGave() throws {
        let input = ThreadSpawnInput(
            try InputTesting.validated(
                "thread.child.spawn",
                [
                    "session_id": 4, "role": "plan-architect", "launch_codex": false, "ready_timeout_seconds": 7,
                    "scope_case_ids": [3, 5], "title": "  t  ",
                ]))
        #expect(input.role == .planArchitect)
        #expect(!input.launchCodex)
        #expect(input.readyTimeoutSeconds == 7)
        #expect(input.scopeCaseIds == [3, 5])
        #expect(input.title == "t")
    }

    @Test func worktreeSpawnGetsTheRegistryDefault() throws {
        let input = WorktreeSpawnInput(try InputTesting.validated("worktree.spawn", ["session_id": 2, "slug": "x"]))
        #expect(input == WorktreeSpawnInput(sessionId: 2, slug: "x", createOnDisk: true))
        let planned = WorktreeSpawnInput(
            try InputTesting.validated("worktree.spawn", ["session_id": 2, "create_on_disk": false]))
        #expect(!planned.createOnDisk)
    }

    @Test func reviewerSettingsKeepTheSpawnDefaults() throws {
        let settings = ReviewerSettings(
            try InputTesting.validated(
                "merge.review.request_auto", ["session_id": 1, "merge_request_id": 2, "provider": "sim"]))
        var spawn = ThreadSpawnInput(sessionId: 1, role: .mergeReviewer)
        settings.apply(to: &spawn)
        #expect(spawn.provider == "sim")
        #expect(spawn.ensureTmux)
        #expect(spawn.launchCodex)
    }

    @Test func aMissingRequiredIdIsAnErrorNotZero() {
        #expect(throws: CodestratorError.self) { try Params().req("task_id") }
        #expect(throws: CodestratorError.self) { try Params().reqString("title") }
        do {
            _ = try Params().req("task_id")
        } catch let e as CodestratorError {
            #expect(e.code == .invalidParams)
            #expect(
                e.message(method: "task.get")
                    == #"task.get: field "task_id" is required; expected \#(ParamKind.id.expectation)"#)
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect((try? Params(values: ["task_id": 9]).req("task_id")) == 9)
    }
}
