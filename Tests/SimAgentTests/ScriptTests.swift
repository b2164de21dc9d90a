import CodestratorCore
import Testing

@testable import SimAgent

@Suite struct ScriptTests {
    @Test func everyBuiltInScenarioParses() throws {
        for name in SimScenarios.names {
            let s = try SimScenarios.named(name)
            #expect(s.name == name)
            #expect(!s.onInput.isEmpty, "scenario \(name) has no on_input rule")
        }
    }

    @Test func unknownScenarioNamesTheKnownOnes() {
        #expect(throws: SimScriptError.self) { try SimScenarios.named("nope") }
        do {
            _ = try SimScenarios.named("nope")
        } catch {
            #expect("\(error)".contains("worker-basic|worker-slow"))
        }
    }

    @Test func defaultScenarioFollowsTheRole() {
        #expect(SimScenarios.defaultName(role: "worker") == "worker-basic")
        #expect(SimScenarios.defaultName(role: "merge-reviewer") == "reviewer-approve")
        #expect(SimScenarios.defaultName(role: "plan-architect") == "planner-basic")
        #expect(SimScenarios.defaultName(role: "doc-mirror-manager") == "mirror-basic")
    }

    @Test func scriptParsesEveryActionKind() throws {
        let s = try SimScript.parse(
            text: #"""
                {"name": "all",
                 "on_start": [{"say": "hello"}],
                 "on_input": [{"match": "x+", "actions": [
                   {"work": 0.5}, {"write": {"path": "a.txt", "content": "A"}}, {"append": {"path": "a.txt", "content": "B"}},
                   {"commit": "m"}, {"call": {"method": "task.get", "params": {"task_id": 1}, "save_as": "t"}},
                   {"ask": "ok?"}, {"ask": {"question": "sure?", "on_no": [{"fail": "no"}]}},
                   {"for_each_case": [{"for_each_step": [{"say": "s"}]}]}, {"if_finished": [{"exit": 0}]},
                   {"exit": 4}, {"fail": "boom"}]}],
                 "on_error": "fail", "on_finish": "exit"}
                """#)
        #expect(s.name == "all")
        #expect(s.onStart == [.say("hello")])
        #expect(s.onError == .fail)
        #expect(s.onFinish == .exit)
        #expect(
            s.onInput[0].actions == [
                .work(0.5), .write(path: "a.txt", content: "A", append: false),
                .write(path: "a.txt", content: "B", append: true), .commit("m"),
                .call(method: "task.get", params: ["task_id": 1], saveAs: "t"), .ask(question: "ok?", onNo: nil),
                .ask(question: "sure?", onNo: [.fail("no")]), .forEachCase([.forEachStep([.say("s")])]),
                .ifFinished([.exit(0)]), .exit(4), .fail("boom"),
            ])
        #expect(s.rule(for: "xx") != nil)
        #expect(s.rule(for: "yy") == nil)
    }

    @Test func badScriptsSayWhereAndWhatWasExpected() {
        func message(_ text: String) -> String {
            do {
                _ = try SimScript.parse(text: text)
                return "parsed"
            } catch {
                return "\(error)"
            }
        }
        #expect(message("[]").contains("expected a JSON object"))
        #expect(message(#"{"on_input": [{"actions": [{"dance": 1}]}]}"#).contains("on_input[0].actions[0]"))
        #expect(message(#"{"on_input": [{"actions": [{"dance": 1}]}]}"#).contains("unknown action \"dance\""))
        #expect(message(#"{"on_input": [{"actions": [{"say": "a", "work": 1}]}]}"#).contains("one key"))
        #expect(message(#"{"on_input": [{"match": "(", "actions": []}]}"#).contains("not a regular expression"))
        #expect(message(#"{"on_error": "retry"}"#).contains("expected continue|fail"))
        #expect(message(#"{"on_finish": 1}"#).contains("expected idle|exit"))
        #expect(message(#"{"on_input": [{"actions": [{"exit": 300}]}]}"#).contains("0–255"))
        #expect(message(#"{"bogus": 1}"#).contains("unknown field \"bogus\""))
    }
}

@Suite struct ExpansionTests {
    let vars: [String: JSON] = [
        "thread_id": 7, "input": "hi\nthere", "case.id": 12,
        "saved.ctx": ["changed_files": [["path": "a.swift"], ["path": "b.swift"]], "n": .double(2.5), "ok": true],
        "assignment.case_ids": [1, 2],
    ]

    func lookup(_ name: String) -> JSON? {
        if let v = vars[name] { return v }
        if name.hasPrefix("saved.ctx.") {
            return SimExpander.resolve(vars["saved.ctx"]!, path: SimExpander.split(name).dropFirst(2))
        }
        return nil
    }

    @Test func textExpansionRendersEachKindOfValue() {
        #expect(SimExpander.expand("t${thread_id}: ${input}", lookup) == "t7: hi\nthere")
        #expect(SimExpander.expand("${assignment.case_ids}", lookup) == "1, 2")
        #expect(SimExpander.expand("${saved.ctx.changed_files.*.path}", lookup) == "a.swift, b.swift")
        #expect(SimExpander.expand("${saved.ctx.changed_files.#} files", lookup) == "2 files")
        #expect(SimExpander.expand("${saved.ctx.changed_files.1.path}", lookup) == "b.swift")
        #expect(SimExpander.expand("${saved.ctx.n} ${saved.ctx.ok}", lookup) == "2.5 true")
        #expect(SimExpander.expand("[${unknown}]", lookup) == "[]")
        #expect(SimExpander.expand("${unclosed", lookup) == "${unclosed")
        #expect(SimExpander.expand("$x ${", lookup) == "$x ${")
    }

    @Test func aLoneVariableKeepsItsJSONTypeAndUnknownOnesAreLeftOut() {
        let params: JSON = [
            "case_id": "${case.id}", "ids": "${assignment.case_ids}", "title": "case ${case.id}",
            "review_job_id": "${missing}", "list": ["${missing}", "${thread_id}"],
        ]
        let out = SimExpander.expandValue(params, lookup)
        #expect(
            out == [
                "case_id": 12, "ids": [1, 2], "title": "case 12", "list": [nil, 7],
            ])
        #expect(out?["review_job_id"] == nil)
    }

    @Test func pathsThroughObjectsAndArrays() {
        let v: JSON = ["a": [["b": 1], ["b": 2]]]
        #expect(SimExpander.resolve(v, path: SimExpander.split("a.1.b")) == 2)
        #expect(SimExpander.resolve(v, path: SimExpander.split("a.5.b")) == nil)
        #expect(SimExpander.resolve(v, path: SimExpander.split("a.#")) == 2)
        #expect(SimExpander.resolve(v, path: SimExpander.split("a.*.b")) == [1, 2])
        #expect(SimExpander.resolve(v, path: SimExpander.split("x")) == nil)
    }
}

@Suite struct AssignmentTests {
    @Test func theWrappedJSONBlockOfThePromptIsRead() {
        let prompt = """
            # Codestrator assignment: thread 7 (worker) in session 1
            Some text with ```inline``` fences.

            ```json
            {"codestrator_assignment": {"session_id": 1, "thread_id": 7, "role": "worker",
             "case_ids": [12, 13], "task_spec": {"merge_request_id": 4}}}
            ```
            """
        let a = SimAssignment.extract(from: prompt)
        #expect(a?["thread_id"] == 7)
        #expect(a.map(SimAssignment.caseIds) == [12, 13])
        #expect(a.flatMap { SimAssignment.field($0, "merge_request_id") } == 4)
    }

    @Test func aFenceNamedCodestratorAssignmentHoldsTheObjectDirectly() {
        let prompt = "intro\r\n```codestrator_assignment\r\n{\"thread_id\": 3, \"case_ids\": [5]}\r\n```\r\nend"
        let a = SimAssignment.extract(from: prompt)
        #expect(a?["thread_id"] == 3)
        #expect(a.map(SimAssignment.caseIds) == [5])
    }

    @Test func anInlineObjectWithoutFenceIsRead() {
        let a = SimAssignment.extract(from: #"go {"codestrator_assignment": {"case_ids": [1], "s": "}{"}} now"#)
        #expect(a?["s"] == "}{")
    }

    @Test func noAssignmentIsNil() {
        #expect(SimAssignment.extract(from: "hello") == nil)
        #expect(SimAssignment.extract(from: "```json\n{\"a\": 1}\n```") == nil)
        #expect(SimAssignment.extract(from: "```codestrator_assignment\nnot json\n```") == nil)
    }
}

@Suite struct HookEventTests {
    @Test func eventsMapToProviderStatuses() throws {
        #expect(try SimHookEvent(threadId: 1, event: "prompt_submit", message: nil).providerStatus == "processing")
        #expect(try SimHookEvent(threadId: 1, event: "turn_complete", message: nil).providerStatus == "idle")
        #expect(try SimHookEvent(threadId: 1, event: "stop", message: nil).providerStatus == "idle")
        #expect(
            try SimHookEvent(threadId: 1, event: "notification", message: "q?").providerStatus == "waiting_user_answer")
        #expect(try SimHookEvent(threadId: 1, event: "activity", message: nil).providerStatus == "processing")
        #expect(throws: SimFailure.self) { try SimHookEvent(threadId: 1, event: "report", message: nil) }
    }

    @Test func messagesAreCutToFourKiBOnACharacterBoundary() throws {
        let long = String(repeating: "é", count: 3000)  // 6000 bytes
        let e = try SimHookEvent(threadId: 1, event: "notification", message: long)
        #expect(e.message?.utf8.count == 4096)
        #expect(e.message == String(repeating: "é", count: 2048))
        #expect(SimHookEvent.cut("a😀", toBytes: 4) == "a")
    }
}

@Suite struct PathTests {
    @Test func writesStayInsideTheWorkingDirectory() throws {
        #expect(try LocalSimSystem.resolve("sim/a.txt", in: "/w") == "/w/sim/a.txt")
        #expect(try LocalSimSystem.resolve("./sim/../b.txt", in: "/w") == "/w/b.txt")
        #expect(throws: SimFailure.self) { try LocalSimSystem.resolve("/etc/passwd", in: "/w") }
        #expect(throws: SimFailure.self) { try LocalSimSystem.resolve("../x", in: "/w") }
        #expect(throws: SimFailure.self) { try LocalSimSystem.resolve("a/../../x", in: "/w") }
        #expect(throws: SimFailure.self) { try LocalSimSystem.resolve(".git/config", in: "/w") }
        #expect(throws: SimFailure.self) { try LocalSimSystem.resolve(".", in: "/w") }
    }
}
