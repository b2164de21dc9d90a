import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// orch_merge's inputs decoded from a call's validated parameters: the registry's defaults arrive, given values
/// are taken, and a missing required value is `invalid_params` naming the field, never 0 or "".
@Suite struct MergeInputTests {
    @Test func mergeRequestTakesTheGivenValues() throws {
        let input = try MergeRequestInput(
            InputTesting.validated(
                "merge.request", ["feature_task_id": 3, "notes_json": ["a": 1], "reviewer_session": "r"]))
        #expect(input.featureTaskId == 3)
        #expect(input.sessionId == nil)
        #expect(input.worktreeId == nil)
        #expect(input.reviewerSession == "r")
        #expect(input.notes == .obj(["a": 1]))
        #expect(InputTesting.missingField(MergeRequestInput.init) == "feature_task_id")
    }

    @Test func reviewContextGetsTheDiffLimit() throws {
        let input = try MergeReviewContextInput(InputTesting.validated("merge.review_context", ["merge_request_id": 2]))
        #expect(input == MergeReviewContextInput(mergeRequestId: 2, diffMaxBytes: 204_800))
        let small = try MergeReviewContextInput(
            InputTesting.validated("merge.review_context", ["merge_request_id": 2, "diff_max_bytes": 2048]))
        #expect(small.diffMaxBytes == 2048)
        #expect(InputTesting.missingField(MergeReviewContextInput.init) == "merge_request_id")
    }

    @Test func requestAutoCarriesTheReviewerSettings() throws {
        let input = try MergeReviewRequestAutoInput(
            InputTesting.validated(
                "merge.review.request_auto",
                ["session_id": 1, "merge_request_id": 5, "queue_item_id": 7, "provider": "sim", "ensure_tmux": false]))
        #expect(input.sessionId == 1)
        #expect(input.mergeRequestId == 5)
        #expect(input.queueItemId == 7)
        #expect(input.reviewer.provider == "sim")
        #expect(!input.reviewer.ensureTmux)
        #expect(
            InputTesting.missingField(MergeReviewRequestAutoInput.init, Params(values: ["session_id": 1]))
                == "merge_request_id")
        #expect(InputTesting.missingField(MergeReviewRequestAutoInput.init) == "session_id")
    }

    @Test func submitTakesVerdictSummaryAndFindings() throws {
        let input = try MergeReviewSubmitInput(
            InputTesting.validated(
                "merge.review.submit",
                [
                    "verdict": "block", "summary": "no", "review_job_id": 4,
                    "findings": [["severity": "blocking", "message": "m"]],
                ]))
        #expect(input.verdict == "BLOCK")
        #expect(input.summary == "no")
        #expect(input.reviewJobId == 4)
        #expect(input.findings.count == 1)
        let bare = try MergeReviewSubmitInput(
            InputTesting.validated("merge.review.submit", ["verdict": "APPROVE", "summary": "ok"]))
        #expect(bare == MergeReviewSubmitInput(verdict: "APPROVE", summary: "ok"))
        #expect(InputTesting.missingField(MergeReviewSubmitInput.init, Params(values: ["summary": "s"])) == "verdict")
        #expect(
            InputTesting.missingField(MergeReviewSubmitInput.init, Params(values: ["verdict": "APPROVE"])) == "summary")
    }

    @Test func mainRequestGetsTheRegistryDefaults() throws {
        let input = try MergeMainRequestInput(InputTesting.validated("merge.main.request", ["session_id": 6]))
        #expect(input == MergeMainRequestInput(sessionId: 6))
        #expect(input.autoReview)
        #expect(input.reviewerRole == "merge-reviewer")
        let given = try MergeMainRequestInput(
            InputTesting.validated(
                "merge.main.request",
                ["session_id": 6, "auto_review": false, "target_branch": "dev", "from_worktree_id": 9]))
        #expect(!given.autoReview)
        #expect(given.targetBranch == "dev")
        #expect(given.fromWorktreeId == 9)
        #expect(InputTesting.missingField(MergeMainRequestInput.init) == "session_id")
    }

    @Test func lockInputsGetTheRegistryDefaults() throws {
        let acquire = try MergeAcquireLockInput(InputTesting.validated("merge.main.acquire_lock", ["session_id": 2]))
        #expect(acquire == MergeAcquireLockInput(sessionId: 2, ttlSeconds: 600, dispatchReview: true))
        let release = try MergeReleaseLockInput(InputTesting.validated("merge.main.release_lock", ["session_id": 2]))
        #expect(release == MergeReleaseLockInput(sessionId: 2, force: false, merge: true))
        let forced = try MergeReleaseLockInput(
            InputTesting.validated("merge.main.release_lock", ["session_id": 2, "force": true, "merge": false]))
        #expect(forced.force && !forced.merge)
        #expect(InputTesting.missingField(MergeAcquireLockInput.init) == "session_id")
        #expect(InputTesting.missingField(MergeReleaseLockInput.init) == "session_id")
    }
}
