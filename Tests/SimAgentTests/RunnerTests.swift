import CodestratorCore
import Foundation
import Testing

@testable import SimAgent

/// A Codestrator that answers from a table and records what it was asked.
final class FakeConnection: SimConnection, @unchecked Sendable {
    let lock = NSLock()
    var calls: [(method: String, params: JSON)] = []
    let answer: @Sendable (String, JSON) -> SimCallReply

    init(_ answer: @escaping @Sendable (String, JSON) -> SimCallReply = { _, _ in .ok([:]) }) {
        self.answer = answer
    }

    func call(method: String, params: JSON) async -> SimCallReply {
        lock.withLock { calls.append((method, params)) }
        return answer(method, params)
    }

    var methods: [String] { calls.map(\.method) }
}

final class FakeScreen: SimScreen {
    var output = ""
    var lines: [String] = []
    var working = false

    func line(_ text: String) {
        lines.append(text)
        output += text + "\n"
    }
    func prompt() { output += "sim> " }
    func echo(_ text: String) { output += text }
    func eraseOne() { output += "\u{8}" }
    func setWorking(_ on: Bool) { working = on }

    /// The `[sim] …` marker lines only.
    var markers: [String] { lines.filter { $0.hasPrefix("[sim] ") } }
}

final class FakeSystem: SimSystem, @unchecked Sendable {
    let lock = NSLock()
    var files: [String: String] = [:]
    var commits: [String] = []
    var inputs: [String] = []
    var reports: [String] = []
    var sleeps = 0
    var onSleep: (@Sendable (Int) -> Void)?
    var failCommit = false

    func write(path: String, content: String, append: Bool) throws {
        _ = try LocalSimSystem.resolve(path, in: "/w")
        lock.withLock { files[path] = (append ? files[path] ?? "" : "") + content }
    }
    func commit(message: String) async throws -> String {
        try lock.withLock {
            if failCommit { throw SimFailure("nothing to commit") }
            commits.append(message)
        }
        return "abc1234 \(message)"
    }
    func recordInput(_ text: String) { lock.withLock { inputs.append(text) } }
    func report(event: String, message: String?) async {
        lock.withLock { reports.append(message.map { "\(event):\($0)" } ?? event) }
    }
    func sleep(seconds: Double) async {
        let (n, hook) = lock.withLock {
            sleeps += 1
            return (sleeps, onSleep)
        }
        hook?(n)
    }
}

/// Keys as a user (or tmux) would send them.
func typed(_ s: String) -> [KeyEvent] { [.text(s), .enter] }
func pasted(_ s: String) -> [KeyEvent] { [.paste(s), .enter] }

func assignment(cases: [Int], thread: Int = 7) -> String {
    """
    # Codestrator assignment: thread \(thread) (worker) in session 1
    Do the work.

    ```json
    {"codestrator_assignment": {"session_id": 1, "thread_id": \(thread), "role": "worker", "case_ids": \(cases)}}
    ```
    """
}

/// task.get answers a case with two open steps (and one already done); everything else answers ok.
let caseTable: @Sendable (String, JSON) -> SimCallReply = { method, params in
    guard method == "task.get", let id = params["task_id"]?.intValue else { return .ok(["method": .string(method)]) }
    func step(_ n: Int, _ title: String, _ status: String) -> JSON {
        .obj(["id": id * 10 + n, "order_no": n, "title": title, "status": status])
    }
    let steps: [JSON] = [step(1, "first", "todo"), step(2, "second", "todo"), step(3, "third", "done")]
    return .ok(.obj(["id": id, "title": "Case \(id)", "status": "todo", "steps": steps]))
}

struct Harness {
    let screen = FakeScreen()
    let system = FakeSystem()
    let connection: FakeConnection
    let input: InputQueue
    let runner: SimRunner

    init(
        _ script: SimScript, keys: [KeyEvent], thread: Int? = 7, closeAtEnd: Bool = true,
        answer: @escaping @Sendable (String, JSON) -> SimCallReply = caseTable
    ) {
        connection = FakeConnection(answer)
        // The queue ends closed, so a script waiting for more input ends instead of hanging the test.
        input = InputQueue(keys + (closeAtEnd ? [.closed] : []))
        runner = SimRunner(
            script: script, identity: .init(threadId: thread, role: "worker", speed: 1), connection: connection,
            screen: screen, input: input, system: system)
    }
}

@Suite struct RunnerTests {
    @Test func echoRepliesVerbatimAndRecordsEachInputByteExact() async throws {
        let h = Harness(try SimScenarios.named("echo"), keys: pasted("two\nlines é") + typed("/exit"))
        let code = await h.runner.run()
        #expect(code == 0)
        #expect(
            h.screen.markers == [
                "[sim] codestrator sim-agent thread 7 (worker) scenario echo", "[sim] status: idle",
                "[sim] status: working", "[sim] reply-begin", "[sim] reply-end", "[sim] status: done",
                "[sim] status: idle", "[sim] bye",
            ])
        #expect(h.screen.output.contains("[sim] reply-begin\ntwo\nlines é\n[sim] reply-end\n"))
        #expect(h.system.inputs == ["two\nlines é"])
        #expect(h.system.reports == ["turn_complete", "prompt_submit", "turn_complete:two\nlines é"])
        #expect(h.screen.output.hasSuffix("sim> /exit\n[sim] bye\n"))
    }

    @Test func workerBasicDoesEveryOpenStepThenReports() async throws {
        let h = Harness(try SimScenarios.named("worker-basic"), keys: pasted(assignment(cases: [12])) + typed("/exit"))
        #expect(await h.runner.run() == 0)
        #expect(
            h.connection.methods == [
                "work.current_ref", "resume.next", "task.get", "case.begin", "step.check", "step.check",
                "case.complete", "work.report",
            ])
        let checks = h.connection.calls.filter { $0.method == "step.check" }.map(\.params)
        #expect(checks.map { $0["step_id"] } == [121, 122])
        #expect(checks.allSatisfy { $0["case_id"] == 12 && $0["status"] == "done" })
        #expect(h.connection.calls[3].params == ["case_id": 12])
        #expect(h.connection.calls.last?.params["outcome"] == "done")
        #expect(h.connection.calls.last?.params["summary"] == "sim worker finished case(s) 12")
        #expect(h.system.files["sim/case_12_step_1.txt"] == "case 12 step 1: first\n")
        #expect(h.system.files["sim/case_12_step_2.txt"] == "case 12 step 2: second\n")
        #expect(h.system.files["sim/case_12_step_3.txt"] == nil)
        #expect(h.system.commits == ["sim: case 12 step 1", "sim: case 12 step 2"])
        #expect(h.screen.lines.filter { $0 == "[sim] call step.check → ok" }.count == 2)
        #expect(h.system.sleeps >= 2)
        let markers = h.screen.markers.filter { $0.hasPrefix("[sim] status") }
        #expect(markers == ["[sim] status: idle", "[sim] status: working", "[sim] status: done", "[sim] status: idle"])
        #expect(h.runner.finished)
    }

    @Test func directivesAfterTheAssignmentAreAcknowledgedCommittedAndReported() async throws {
        let h = Harness(
            try SimScenarios.named("worker-basic"),
            keys: pasted(assignment(cases: [])) + pasted("rename the button") + typed("/exit"))
        #expect(await h.runner.run() == 0)
        #expect(h.system.files["sim/directive_7_1.txt"] == "rename the button\n")
        #expect(h.system.commits == ["sim: directive 1 of thread 7"])
        #expect(h.screen.output.contains("[sim] reply-begin\nack: rename the button\n[sim] reply-end"))
        let reports = h.connection.calls.filter { $0.method == "work.report" }.map { $0.params["summary"] }
        #expect(reports == ["sim worker finished case(s) ", "directive 1 applied"])
        #expect(h.system.inputs == [assignment(cases: []), "rename the button"])
    }

    @Test func escapeInterruptsThenTheNextInputRunsAndTheInterruptedListResumes() async throws {
        let script = try SimScript.parse(
            text: #"""
                {"name": "t", "on_input": [
                  {"match": "codestrator_assignment", "actions": [{"say": "a"}, {"work": 1}, {"say": "b"}]},
                  {"match": ".*", "actions": [{"say": "dir ${directive.n}"}, {"if_finished": [{"say": "late"}]}]}]}
                """#)
        let h = Harness(script, keys: pasted(assignment(cases: [])), closeAtEnd: false)
        let queue = h.input
        // Escape arrives during the first slice of work; then a directive and /exit are typed.
        h.system.onSleep = { n in
            if n == 1 { queue.push([.escape] + typed("go on") + typed("/exit")) }
        }
        #expect(await h.runner.run() == 0)
        let replies = h.screen.lines.filter { !$0.hasPrefix("[sim]") && !$0.isEmpty }
        #expect(replies == ["a", "dir 1", "b"])
        let markers = h.screen.markers.filter { !$0.contains("reply-") }
        #expect(
            markers == [
                "[sim] codestrator sim-agent thread 7 (worker) scenario t", "[sim] status: idle",
                "[sim] status: working", "[sim] interrupted", "[sim] status: idle", "[sim] status: working",
                "[sim] status: done", "[sim] status: idle", "[sim] bye",
            ])
        // The interrupted work started again: at least one slice before and the full second pass after.
        #expect(h.system.sleeps > 50)
        #expect(h.system.inputs.count == 2)
    }

    @Test func cancelKeysDuringWorkWithControlC() async throws {
        let script = try SimScript.parse(
            text: #"{"name": "t", "on_input": [{"match": ".*", "actions": [{"work": 10}, {"say": "never"}]}]}"#)
        let h = Harness(script, keys: typed("x") + [.interrupt] + typed("/exit"))
        #expect(await h.runner.run() == 0)
        #expect(h.screen.lines.contains("[sim] interrupted"))
        // The next input ("/exit") ends the program before the interrupted list resumes.
        #expect(!h.screen.lines.contains("never"))
    }

    @Test func workerAskAnsweredNoReportsBlockedAndSkipsTheSteps() async throws {
        let h = Harness(
            try SimScenarios.named("worker-ask"), keys: pasted(assignment(cases: [5])) + typed("n") + typed("/exit"))
        #expect(await h.runner.run() == 0)
        #expect(h.connection.methods == ["work.current_ref", "resume.next", "task.get", "case.begin", "work.report"])
        #expect(h.connection.calls.last?.params["outcome"] == "blocked")
        #expect(h.screen.lines.contains("[sim] question: proceed? (y/n)"))
        #expect(h.screen.lines.contains("[sim] status: question"))
        #expect(h.system.reports.contains("notification:proceed? (y/n)"))
        #expect(!h.runner.finished)
        #expect(!h.screen.lines.contains("[sim] status: done"))
    }

    @Test func workerAskAnsweredYesProceedsAfterReAskingOnNonsense() async throws {
        let h = Harness(
            try SimScenarios.named("worker-ask"),
            keys: pasted(assignment(cases: [5])) + typed("maybe") + typed("y") + typed("/exit"))
        #expect(await h.runner.run() == 0)
        #expect(h.screen.lines.filter { $0 == "[sim] question: proceed? (y/n)" }.count == 2)
        #expect(h.connection.methods.filter { $0 == "step.check" }.count == 2)
        #expect(h.runner.finished)
        #expect(h.system.inputs == [assignment(cases: [5]), "maybe", "y"])
    }

    @Test func callErrorsArePrintedAndContinueByDefault() async throws {
        let h = Harness(
            try SimScenarios.named("reviewer-approve"), keys: pasted(assignment(cases: [])) + typed("/exit"),
            answer: { method, _ in .error("\(method): not built yet\nsecond line") })
        #expect(await h.runner.run() == 0)
        #expect(
            h.screen.lines.contains(
                "[sim] call merge.review_context → error: merge.review_context: not built yet second line"))
        #expect(h.connection.methods == ["merge.review_context", "merge.review.submit"])
        let submit = h.connection.calls[1].params
        #expect(submit["verdict"] == "APPROVE")
        #expect(submit["review_job_id"] == nil)
        #expect(h.screen.lines.contains("[sim] status: done"))
    }

    @Test func onErrorFailStopsTheListWithAnErrorMarker() async throws {
        let script = try SimScript.parse(
            text: #"""
                {"name": "t", "on_error": "fail", "on_input": [{"match": ".*", "actions": [
                  {"call": {"method": "case.begin", "params": {}}}, {"say": "unreached"}]}]}
                """#)
        let h = Harness(script, keys: typed("go") + typed("/exit"), answer: { _, _ in .error("boom") })
        #expect(await h.runner.run() == 0)
        #expect(h.screen.lines.contains("[sim] call case.begin → error: boom"))
        #expect(h.screen.lines.contains("[sim] error: case.begin: boom"))
        #expect(h.screen.lines.contains("[sim] status: error"))
        #expect(!h.screen.lines.contains("unreached"))
    }

    @Test func reviewerBlockNamesTheFirstChangedFile() async throws {
        let h = Harness(
            try SimScenarios.named("reviewer-block"),
            keys: pasted(
                #"```json\#n{"codestrator_assignment": {"thread_id": 9, "merge_request_id": 4, "review_job_id": 2}}\#n```"#
            )
                + typed("/exit"),
            answer: { method, _ in
                method == "merge.review_context"
                    ? .ok(["changed_files": [["path": "src/a.swift"], ["path": "b.md"]]]) : .ok([:])
            })
        #expect(await h.runner.run() == 0)
        #expect(h.connection.calls[0].params == ["merge_request_id": 4])
        let submit = h.connection.calls[1].params
        #expect(submit["review_job_id"] == 2)
        #expect(submit["verdict"] == "BLOCK")
        #expect(submit["summary"] == "sim review (BLOCK): 2 changed file(s): src/a.swift, b.md")
        let finding = submit["findings"]?.arrayValue?.first
        #expect(finding?["file"] == "src/a.swift")
        #expect(finding?["severity"] == "blocking")
    }

    @Test func crashExitsWithThreeAfterTheFirstInput() async throws {
        let h = Harness(try SimScenarios.named("crash"), keys: typed("anything"))
        #expect(await h.runner.run() == 3)
        #expect(h.system.inputs == ["anything"])
    }

    @Test func controlDOnAnEmptyLineSaysByeAndExitsZero() async throws {
        let h = Harness(try SimScenarios.named("echo"), keys: [.text("ab"), .backspace, .backspace, .endOfText])
        #expect(await h.runner.run() == 0)
        #expect(h.screen.lines.last == "[sim] bye")
        #expect(h.system.inputs.isEmpty)
    }

    @Test func emptyEnterSubmitsNothing() async throws {
        let h = Harness(
            try SimScenarios.named("echo"), keys: [.enter, .enter] + typed("x") + [.enter] + typed("/exit"))
        #expect(await h.runner.run() == 0)
        #expect(h.system.inputs == ["x"])
    }

    @Test func onFinishExitEndsAfterDone() async throws {
        let script = try SimScript.parse(
            text: #"{"name": "t", "on_finish": "exit", "on_input": [{"match": ".*", "actions": [{"say": "hi"}]}]}"#)
        let h = Harness(script, keys: typed("go"))
        #expect(await h.runner.run() == 0)
        #expect(Array(h.screen.markers.suffix(2)) == ["[sim] status: done", "[sim] bye"])
    }

    @Test func plannerChainsSavedResults() async throws {
        let h = Harness(
            try SimScenarios.named("planner-basic"), keys: pasted(assignment(cases: [])) + typed("/exit"),
            answer: { method, _ in
                switch method {
                case "plan.bootstrap": return .ok(["plan": ["id": 31]])
                case "plan.slice.generate":
                    return .ok(["slices": [["title": "sim slice 1"], ["title": "sim slice 2"]]])
                default: return .ok([:])
                }
            })
        #expect(await h.runner.run() == 0)
        #expect(h.connection.methods == ["work.current_ref", "plan.bootstrap", "plan.slice.generate", "work.report"])
        #expect(h.connection.calls[2].params["plan_node_id"] == 31)
        #expect(h.connection.calls[3].params["summary"] == "planned 2 slice(s): sim slice 1, sim slice 2")
    }

    @Test func mirrorReportsThePath() async throws {
        let h = Harness(
            try SimScenarios.named("mirror-basic"), keys: pasted(assignment(cases: [])) + typed("/exit"),
            answer: { method, _ in method == "mirror.refresh" ? .ok(["path": "/r/STATE.md"]) : .ok([:]) })
        #expect(await h.runner.run() == 0)
        #expect(h.connection.methods == ["mirror.status", "mirror.refresh", "work.report"])
        #expect(h.connection.calls[2].params["summary"] == "mirror refreshed at /r/STATE.md")
    }

    @Test func workerBlockedBeginsThenReportsBlocked() async throws {
        let h = Harness(try SimScenarios.named("worker-blocked"), keys: pasted(assignment(cases: [3])) + typed("/exit"))
        #expect(await h.runner.run() == 0)
        #expect(h.connection.methods == ["task.get", "case.begin", "work.report"])
        #expect(h.connection.calls[2].params["outcome"] == "blocked")
        #expect(h.connection.calls[2].params["question"] != nil)
    }

    @Test func doneCasesAreSkipped() async throws {
        let h = Harness(
            try SimScenarios.named("worker-basic"), keys: pasted(assignment(cases: [1, 2])) + typed("/exit"),
            answer: { method, params in
                if method == "task.get", params["task_id"] == 1 {
                    return .ok(["id": 1, "status": "done", "steps": []])
                }
                return caseTable(method, params)
            })
        #expect(await h.runner.run() == 0)
        #expect(h.screen.lines.contains("[sim] skip case 1 (done)"))
        #expect(h.connection.calls.filter { $0.method == "case.begin" }.map { $0.params["case_id"] } == [2])
    }

    @Test func writeOutsideTheWorkdirIsAnError() async throws {
        let script = try SimScript.parse(
            text:
                #"{"name": "t", "on_input": [{"match": ".*", "actions": [{"write": {"path": "../x", "content": ""}}]}]}"#
        )
        let h = Harness(script, keys: typed("go") + typed("/exit"))
        #expect(await h.runner.run() == 0)
        #expect(h.screen.lines.contains { $0.hasPrefix("[sim] error: write ../x: ../x leaves the working directory") })
    }
}
