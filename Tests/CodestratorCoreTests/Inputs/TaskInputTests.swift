import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// The orch_task inputs decoded from a call's validated parameters: the registry's defaults arrive, given
/// values are kept, and a missing required value is `invalid_params` naming the field, never 0 or "".
@Suite struct TaskInputTests {
    func validated(_ method: String, _ params: JSONObject) throws -> Params {
        let specs = try #require(MethodRegistry.standard[method]?.params)
        return try ParamValidator.validate(params, specs: specs).0
    }

    /// Decoding `values` (as if validation had been skipped) fails on `field`.
    func expectMissing<T>(_ field: String, _ decode: () throws -> T) {
        do {
            _ = try decode()
            Issue.record("no error for a missing \(field)")
        } catch let e as CodestratorError {
            #expect(e.code == .invalidParams)
            #expect(e.field == field)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func taskCreateGetsTheRegistryDefaultsAndKeepsWhatWasGiven() throws {
        let epic = try TaskCreateInput(validated("task.create", ["level": "epic", "title": " E ", "session_id": 3]))
        #expect(epic == TaskCreateInput(level: .epic, title: "E", sessionId: 3))
        #expect(epic.priority == TaskCreateInput.priorityDefault)
        #expect(epic.caseOnlyFieldsGiven.isEmpty)
        let c = try TaskCreateInput(
            validated(
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
        expectMissing("level") { try TaskCreateInput(Params(values: ["title": "t"])) }
        expectMissing("title") { try TaskCreateInput(Params(values: ["level": "epic"])) }
    }

    @Test func taskListGetsThePageDefaults() throws {
        let input = try TaskListInput(validated("task.list", [:]))
        #expect(input == TaskListInput())
        #expect(input.page == ListPage(limit: 100, offset: 0))
        #expect(!input.rootsOnly)
        let given = try TaskListInput(
            validated("task.list", ["roots_only": true, "limit": 5, "offset": 10, "status": "done", "session_id": 1]))
        #expect(given.rootsOnly)
        #expect(given.page == ListPage(limit: 5, offset: 10))
        #expect(given.status == "done")
        #expect(given.sessionId == 1)
    }

    @Test func taskUpdateKeepsOmittedClearedAndSetApart() throws {
        let input = try TaskUpdateInput(
            validated(
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
        let none = try TaskUpdateInput(validated("task.update", ["task_id": 4]))
        #expect(none == TaskUpdateInput(taskId: 4))
        expectMissing("task_id") { try TaskUpdateInput(Params(values: ["title": "t"])) }
    }

    @Test func caseMethodsGetTheirDefaultsAndActor() throws {
        let begin = try CaseBeginInput(validated("case.begin", ["case_id": 9, "fixtures": [" f "]]))
        #expect(begin.caseId == 9)
        #expect(!begin.reopen)
        #expect(begin.fixtures == ["f"])
        #expect(begin.actor == CaseActor())
        #expect(begin.steps == nil && begin.inputContract == nil && begin.requiredFiles == nil)
        let reopen = try CaseBeginInput(
            validated("case.begin", ["case_id": 9, "reopen": true, "session_id": 2, "thread_id": 5]))
        #expect(reopen.reopen)
        #expect(reopen.actor == CaseActor(sessionId: 2, threadId: 5))

        let check = try StepCheckInput(validated("step.check", ["case_id": 9, "result": "ok", "step_title": "s"]))
        #expect(check.status == .done)
        #expect(check.result == "ok")
        #expect(check.artifacts.isEmpty)
        #expect(check.stepTitle == "s" && check.stepId == nil)
        let failed = try StepCheckInput(validated("step.check", ["case_id": 9, "result": "no", "status": "failed"]))
        #expect(failed.status == .failed)

        let complete = try CaseCompleteInput(validated("case.complete", ["case_id": 9]))
        #expect(!complete.force)
        #expect(complete == CaseCompleteInput(caseId: 9))
        #expect(try CaseCompleteInput(validated("case.complete", ["case_id": 9, "force": true])).force)

        expectMissing("case_id") { try CaseBeginInput(Params()) }
        expectMissing("case_id") { try StepCheckInput(Params(values: ["result": "r"])) }
        expectMissing("result") { try StepCheckInput(Params(values: ["case_id": 1])) }
        expectMissing("case_id") { try CaseCompleteInput(Params()) }
    }

    @Test func resumeAttachGetsItsDefault() throws {
        let input = try ResumeCandidatesAttachInput(validated("resume.candidates.attach", ["target_session_id": 3]))
        #expect(input == ResumeCandidatesAttachInput(targetSessionId: 3))
        #expect(!input.force)
        let forced = try ResumeCandidatesAttachInput(
            validated(
                "resume.candidates.attach",
                ["target_session_id": 3, "force": true, "requester_session_id": 4, "heartbeat_timeout_seconds": 60]))
        #expect(forced.force && forced.requesterSessionId == 4 && forced.heartbeatTimeoutSeconds == 60)
        expectMissing("target_session_id") { try ResumeCandidatesAttachInput(Params()) }
    }
}
