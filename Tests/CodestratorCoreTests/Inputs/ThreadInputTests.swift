import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// orch_thread's inputs (and runtime.tmux.ensure's) decoded from a call's validated parameters: the registry's
/// defaults arrive, given values are taken, and a missing required value is `invalid_params` naming the field.
@Suite struct ThreadInputTests {
    @Test func listGetsTheRegistryDefaultsAndReadsOneStatusOrMany() throws {
        let input = try ThreadListInput(InputTesting.validated("thread.child.list", ["session_id": 3]))
        #expect(input == ThreadListInput(sessionId: 3))
        #expect(input.refresh && !input.includeRoot)
        #expect(input.statuses == nil)
        let one = try ThreadListInput(InputTesting.validated("thread.child.list", ["session_id": 3, "status": "idle"]))
        #expect(one.statuses == ["idle"])
        let many = try ThreadListInput(
            InputTesting.validated(
                "thread.child.list",
                ["session_id": 3, "status": ["processing", "error"], "refresh": false, "role": "worker"]))
        #expect(many.statuses == ["processing", "error"])
        #expect(!many.refresh)
        #expect(many.role == "worker")
        #expect(InputTesting.missingField(ThreadListInput.init) == "session_id")
    }

    @Test func waitStatusNeedsTargetsAndDefaultsItsTimeout() throws {
        let input = try ThreadWaitStatusInput(
            InputTesting.validated("thread.child.wait_status", ["thread_id": 4, "target_statuses": ["idle"]]))
        #expect(input == ThreadWaitStatusInput(threadId: 4, targetStatuses: ["idle"], timeoutSeconds: 60))
        #expect(
            InputTesting.missingField(ThreadWaitStatusInput.init, Params(values: ["thread_id": 4]))
                == "target_statuses")
        #expect(
            InputTesting.missingField(ThreadWaitStatusInput.init, Params(values: ["target_statuses": ["idle"]]))
                == "thread_id")
    }

    @Test func stopGetsTheRegistryDefaults() throws {
        let input = try ThreadStopInput(InputTesting.validated("thread.child.stop", ["thread_id": 2]))
        #expect(input == ThreadStopInput(threadId: 2, terminatePane: true, waitSeconds: 5))
        let given = try ThreadStopInput(
            InputTesting.validated("thread.child.stop", ["thread_id": 2, "terminate_pane": false, "wait_seconds": 9]))
        #expect(!given.terminatePane && given.waitSeconds == 9)
        #expect(InputTesting.missingField(ThreadStopInput.init) == "thread_id")
    }

    @Test func directiveGetsTheRegistryDefaults() throws {
        let input = try ThreadDirectiveInput(
            InputTesting.validated("thread.child.directive", ["thread_id": 5, "directive": "go on"]))
        #expect(input == ThreadDirectiveInput(threadId: 5, directive: "go on"))
        #expect(input.mode == "interrupt_patch")
        #expect(input.waitIdleSeconds == 10)
        #expect(input.keys == nil)
        let answer = try ThreadDirectiveInput(
            InputTesting.validated(
                "thread.child.directive",
                ["thread_id": 5, "mode": "answer", "keys": ["Enter"], "wait_idle_seconds": 3]))
        #expect(answer.mode == "answer")
        #expect(answer.keys == ["Enter"])
        #expect(answer.directive == nil)
        #expect(answer.waitIdleSeconds == 3)
        #expect(InputTesting.missingField(ThreadDirectiveInput.init) == "thread_id")
    }

    @Test func tmuxEnsureInstallsNothingUnlessAsked() throws {
        let input = TmuxEnsureInput(try InputTesting.validated("runtime.tmux.ensure", [:]))
        #expect(input == TmuxEnsureInput(sessionId: nil, autoInstall: false))
        let asked = TmuxEnsureInput(
            try InputTesting.validated("runtime.tmux.ensure", ["session_id": 1, "auto_install": true]))
        #expect(asked == TmuxEnsureInput(sessionId: 1, autoInstall: true))
    }
}
