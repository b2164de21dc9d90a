import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// The orch_task inputs decoded from a call's validated parameters: the registry's defaults arrive, given
/// values are kept, and a missing required value is `invalid_params` naming the field, never 0 or "".
@Suite struct TaskInputTests {
    @Test func taskCreateGetsTheRegistryDefaultsAndKeepsWhatWasGiven() throws {
        let epic = try TaskCreateInput(
            InputTesting.validated("task.create", ["level": "epic", "title": " E ", "session_id": 3]))
        #expect(epic == TaskCreateInput(level: .epic, title: "E", sessionId: 3))
        #expect(epic.priority == TaskCreateInput.priorityDefault)
        #expect(epic.caseOnlyFieldsGiven.isEmpty)
        let c = try TaskCreateInput(
            InputTesting.validated(
                "task.create",
                [
                    "level": "test_group", "title": "g", "parent_id": 2, "priority": -5, "steps": ["a", "b"],
                    "assignee_thread_id": 7, "input_contract": ["k": 1], "description": "d",
                ]))
        #expect(c.level == .testgroup)
        #expect(c.parentId == 2)
        #expect(c.priority == -5)
        #expect(c.steps == ["a", "b"])
        #expect(c.description == "d")
        #expect(c.caseOnlyFieldsGiven == ["steps", "input_contract", "assignee_thread_id"])
        InputTesting.expectMissing("level") { try TaskCreateInput(Params(values: ["title": "t"])) }
        InputTesting.expectMissing("title") { try TaskCreateInput(Params(values: ["level": "epic"])) }
    }

    @Test func taskListGetsThePageDefaults() throws {
        let input = try TaskListInput(InputTesting.validated("task.list", [:]))
        #expect(input == TaskListInput())
        #expect(input.page == ListPage(limit: 100, offset: 0))
        #expect(!input.rootsOnly)
        let given = try TaskListInput(
            InputTesting.validated(
                "task.list", ["roots_only": true, "limit": 5, "offset": 10, "status": "done", "session_id": 1]))
        #expect(given.rootsOnly)
        #expect(given.page == ListPage(limit: 5, offset: 10))
        #expect(given.status == "done")
        #expect(given.sessionId == 1)
    }

    @Test func taskUpdateKeepsOmittedClearedAndSetApart() throws {
        let input = try TaskUpdateInput(
            InputTesting.validated(
                "task.update",
                ["task_id": 4, "status": "blocked", "reason": "r", "description": .null, "next_action": "n"]))
        #expect(input.taskId == 4)
        #expect(input.status == .blocked)
        #expect(input.reason == "r")
        #expect(input.description == .cleared)
        #expect(input.nextAction == .set("n"))
        #expect(input.assigneeThreadId == .unchanged)
        #expect(input.isGiven("description") && input.isGiven("next_action") && input.isGiven("status"))
        #expect(!input.isGiven("title") && !input.isGiven("assignee_thread_id") && !input.isGiven("priority"))
        let none = try TaskUpdateInput(InputTesting.validated("task.update", ["task_id": 4]))
        #expect(none == TaskUpdateInput(taskId: 4))
        InputTesting.expectMissing("task_id") { try TaskUpdateInput(Params(values: ["title": "t"])) }
    }

    @Test func caseMethodsGetTheirDefaultsAndActor() throws {
        let begin = try CaseBeginInput(InputTesting.validated("case.begin", ["case_id": 9, "fixtures": [" f "]]))
        #expect(begin.caseId == 9)
        #expect(!begin.reopen)
        #expect(begin.fixtures == ["f"])
        #expect(begin.actor == CaseActor())
        #expect(begin.steps == nil && begin.inputContract == nil && begin.requiredFiles == nil)
        let reopen = try CaseBeginInput(
            InputTesting.validated("case.begin", ["case_id": 9, "reopen": true, "session_id": 2, "thread_id": 5]))
        #expect(reopen.reopen)
        #expect(reopen.actor == CaseActor(sessionId: 2, threadId: 5))

        let check = try StepCheckInput(
            InputTesting.validated("step.check", ["case_id": 9, "result": "ok", "step_title": "s"]))
        #expect(check.status == .done)
        #expect(check.result == "ok")
        #expect(check.artifacts.isEmpty)
        #expect(check.stepTitle == "s" && check.stepId == nil)
        let failed = try StepCheckInput(
            InputTesting.validated("step.check", ["case_id": 9, "result": "no", "status": "failed"]))
        #expect(failed.status == .failed)

        let complete = try CaseCompleteInput(InputTesting.validated("case.complete", ["case_id": 9]))
        #expect(!complete.force)
        #expect(complete == CaseCompleteInput(caseId: 9))
        #expect(try CaseCompleteInput(InputTesting.validated("case.complete", ["case_id": 9, "force": true])).force)

        InputTesting.expectMissing("case_id") { try CaseBeginInput(Params()) }
        InputTesting.expectMissing("case_id") { try StepCheckInput(Params(values: ["result": "r"])) }
        InputTesting.expectMissing("result") { try StepCheckInput(Params(values: ["case_id": 1])) }
        InputTesting.expectMissing("case_id") { try CaseCompleteInput(Params()) }
    }

    @Test func resumeAttachGetsItsDefault() throws {
        let input = try ResumeCandidatesAttachInput(
            InputTesting.validated("resume.candidates.attach", ["target_session_id": 3]))
        #expect(input == ResumeCandidatesAttachInput(targetSessionId: 3))
        #expect(!input.force)
        let forced = try ResumeCandidatesAttachInput(
            InputTesting.validated(
                "resume.candidates.attach",
                ["target_session_id": 3, "force": true, "requester_session_id": 4, "heartbeat_timeout_seconds": 60]))
        #expect(forced.force && forced.requesterSessionId == 4 && forced.heartbeatTimeoutSeconds == 60)
        InputTesting.expectMissing("target_session_id") { try ResumeCandidatesAttachInput(Params()) }
    }
}
