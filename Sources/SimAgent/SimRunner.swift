import CodestratorCore
import Foundation

/// The sim agent's behaviour (docs/sim-agent.md): reads inputs, runs the script's actions, prints the markers the
/// screen classifiers read, and reports turns through the hook.
///
/// Everything outside is behind a port (screen, keyboard, Codestrator connection, files and git), so tests run
/// it with fakes. It is driven by one task; nothing in it is shared.
public final class SimRunner {
    /// Who the sim acts as.
    public struct Identity: Sendable {
        public var threadId: Int?
        public var role: String
        /// Multiplies every `work` duration.
        public var speed: Double

        public init(threadId: Int?, role: String, speed: Double = 1) {
            self.threadId = threadId
            self.role = role
            self.speed = speed
        }
    }

    /// A list of actions being run, with where each nested list stands; kept whole across an interrupt.
    struct Run {
        var frames: [Frame]
        var input: String
        var isAssignment: Bool
        var directive: Int
        /// An `ask` answered `n` replaced the rest of the list with its `on_no` actions.
        var stopped = false
    }

    struct Frame {
        var actions: [SimAction]
        var index = 0
        var loop: Loop?
    }

    enum Loop {
        /// `for_each_case`: the case ids, the current position, and the loaded case.
        case cases(ids: [Int], at: Int, current: JSON)
        /// `for_each_step`: the steps, the current position.
        case steps(items: [JSON], at: Int)
    }

    enum Outcome {
        case completed(finishedNow: Bool)
        case interrupted
        case failed(String)
        case exit(Int32)
    }

    enum LineResult {
        case submit(String)
        case exit(Int32)
    }

    let script: SimScript
    let identity: Identity
    let connection: any SimConnection
    let screen: any SimScreen
    let input: any SimInput
    let system: any SimSystem

    /// The assignment read from the first input.
    public private(set) var assignment: JSONObject?
    /// True once the assignment's actions have all run.
    public private(set) var finished = false
    /// Results kept with `save_as`.
    public private(set) var saved: [String: JSON] = [:]
    var answer: String?
    var inputs = 0
    var directives = 0
    var suspended: [Run] = []
    var lastReply: String?

    public init(
        script: SimScript, identity: Identity, connection: any SimConnection, screen: any SimScreen,
        input: any SimInput, system: any SimSystem
    ) {
        self.script = script
        self.identity = identity
        self.connection = connection
        self.screen = screen
        self.input = input
        self.system = system
    }

    /// Runs until `/exit`, C-d on an empty line, an `exit` action, or `on_finish: exit`; returns the exit status.
    public func run() async -> Int32 {
        let thread = identity.threadId.map(String.init) ?? "?"
        screen.line("[sim] codestrator sim-agent thread \(thread) (\(identity.role)) scenario \(script.name)")
        if !script.onStart.isEmpty {
            screen.line("[sim] status: working")
            screen.setWorking(true)
            let run = Run(frames: [Frame(actions: script.onStart)], input: "", isAssignment: false, directive: 0)
            if let code = await settle(await drive(run)) { return code }
        } else {
            await showIdle()
        }
        while true {
            let text: String
            switch await readLine() {
            case .exit(let code): return code
            case .submit(let t): text = t
            }
            await submitted(text)
            inputs += 1
            let first = inputs == 1
            if first {
                assignment = SimAssignment.extract(from: text)
            } else {
                directives += 1
            }
            let actions = script.rule(for: text)?.actions ?? []
            screen.line("[sim] status: working")
            screen.setWorking(true)
            let run = Run(
                frames: [Frame(actions: actions)], input: text, isAssignment: first, directive: directives)
            if let code = await settle(await drive(run)) { return code }
        }
    }

    /// Prints what an outcome leaves on screen; returns an exit status when the program ends.
    func settle(_ outcome: Outcome) async -> Int32? {
        screen.setWorking(false)
        switch outcome {
        case .completed(let finishedNow):
            if finishedNow {
                screen.line("[sim] status: done")
                await system.report(event: "turn_complete", message: lastReply)
                if script.onFinish == .exit {
                    screen.line("[sim] bye")
                    return 0
                }
                screen.line("[sim] status: idle")
                screen.prompt()
            } else {
                await showIdle()
            }
        case .interrupted:
            screen.line("[sim] interrupted")
            await showIdle()
        case .failed(let message):
            screen.line("[sim] error: \(oneLine(message))")
            screen.line("[sim] status: error")
            screen.prompt()
        case .exit(let code):
            screen.line("[sim] exit \(code)")
            return code
        }
        return nil
    }

    func showIdle() async {
        screen.line("[sim] status: idle")
        await system.report(event: "turn_complete", message: lastReply)
        screen.prompt()
    }

    func submitted(_ text: String) async {
        system.recordInput(text)
        lastReply = nil
        await system.report(event: "prompt_submit", message: nil)
    }

    // MARK: Input

    /// Reads one submitted line: echoes keys, takes pastes verbatim, handles `/exit` and C-d.
    func readLine() async -> LineResult {
        var buffer = ""
        while true {
            switch await input.next() {
            case .text(let s):
                buffer += s
                screen.echo(s)
            case .paste(let s):
                buffer += s
                screen.echo(s)
            case .backspace:
                if !buffer.isEmpty {
                    buffer.removeLast()
                    screen.eraseOne()
                }
            case .enter:
                // An empty Enter is not an input (a second Enter after a paste must not submit anything).
                guard !buffer.isEmpty else { continue }
                screen.echo("\n")
                if buffer.trimmingCharacters(in: .whitespaces) == "/exit" {
                    screen.line("[sim] bye")
                    return .exit(0)
                }
                return .submit(buffer)
            case .endOfText:
                if buffer.isEmpty {
                    screen.echo("\n")
                    screen.line("[sim] bye")
                    return .exit(0)
                }
            case .interrupt:
                if !buffer.isEmpty {
                    buffer = ""
                    screen.echo("^C\n")
                    screen.prompt()
                }
            case .escape:
                break
            case .closed:
                return .exit(0)
            }
        }
    }

    // MARK: Running actions

    /// Runs a list, then the lists it had interrupted (most recent first).
    func drive(_ first: Run) async -> Outcome {
        var run = first
        var finishedNow = false
        while true {
            let result = await execute(&run)
            switch result {
            case .completed:
                if run.isAssignment && !run.stopped {
                    finished = true
                    finishedNow = true
                }
                if let next = suspended.popLast() {
                    run = next
                    continue
                }
                return .completed(finishedNow: finishedNow)
            case .interrupted:
                suspended.append(run)
                return .interrupted
            default:
                return result
            }
        }
    }

    /// Runs a list until it ends, is interrupted, fails or exits.
    func execute(_ run: inout Run) async -> Outcome {
        while let top = run.frames.last {
            let fi = run.frames.count - 1
            if top.index >= top.actions.count {
                if top.loop != nil {
                    if let failure = await advanceLoop(&run) { return .failed(failure) }
                } else {
                    run.frames.removeLast()
                }
                continue
            }
            if input.takeInterrupt() { return .interrupted }
            let action = top.actions[top.index]
            switch action {
            case .work(let seconds):
                // Not advanced when interrupted: the work starts again on resume.
                guard await work(seconds * identity.speed) else { return .interrupted }
                run.frames[fi].index += 1
            case .forEachCase(let body):
                run.frames[fi].index += 1
                let ids = assignment.map(SimAssignment.caseIds) ?? []
                run.frames.append(
                    Frame(actions: body, index: body.count, loop: .cases(ids: ids, at: -1, current: .null)))
            case .forEachStep(let body):
                run.frames[fi].index += 1
                let steps = (currentCase(run)?["steps"]?.arrayValue ?? []).filter {
                    let s = $0["status"]?.stringValue
                    return s != "done" && s != "skipped"
                }
                run.frames.append(Frame(actions: body, index: body.count, loop: .steps(items: steps, at: -1)))
            case .ifFinished(let body):
                run.frames[fi].index += 1
                if finished { run.frames.append(Frame(actions: body)) }
            case .ask(let question, let onNo):
                if let code = await ask(expand(question, run)) { return .exit(code) }
                run.frames[fi].index += 1
                if answer == "n", let onNo {
                    run.frames = [Frame(actions: onNo)]
                    run.stopped = true
                }
            case .exit(let code):
                return .exit(code)
            case .fail(let message):
                return .failed(expand(message, run))
            default:
                run.frames[fi].index += 1
                if let failure = await perform(action, run), script.onError == .fail {
                    return .failed(failure)
                }
            }
        }
        return .completed(finishedNow: false)
    }

    /// The simple actions; returns a failure message, if any.
    func perform(_ action: SimAction, _ run: Run) async -> String? {
        switch action {
        case .say(let text):
            let reply = expand(text, run)
            lastReply = reply
            screen.line("[sim] reply-begin")
            screen.line(reply)
            screen.line("[sim] reply-end")
        case .write(let path, let content, let append):
            let p = expand(path, run)
            do {
                try system.write(path: p, content: expand(content, run), append: append)
                screen.line("[sim] \(append ? "appended" : "wrote") \(p)")
            } catch {
                let message = "\(append ? "append" : "write") \(p): \(error)"
                screen.line("[sim] error: \(oneLine(message))")
                return message
            }
        case .commit(let message):
            do {
                let summary = try await system.commit(message: expand(message, run))
                screen.line("[sim] commit \(oneLine(summary))")
            } catch {
                let message = "commit: \(error)"
                screen.line("[sim] error: \(oneLine(message))")
                return message
            }
        case .call(let method, let params, let saveAs):
            let expanded = SimExpander.expandValue(params, { self.lookup($0, run) }) ?? .object(JSONObject())
            switch await connection.call(method: method, params: expanded) {
            case .ok(let result):
                screen.line("[sim] call \(method) → ok")
                if let saveAs { saved[saveAs] = result }
            case .error(let message):
                screen.line("[sim] call \(method) → error: \(oneLine(message))")
                return "\(method): \(message)"
            }
        default:
            break
        }
        return nil
    }

    /// Waits; false when interrupted.
    func work(_ seconds: Double) async -> Bool {
        var left = max(0, seconds)
        repeat {
            if input.takeInterrupt() { return false }
            let slice = min(left, 0.02)
            if slice > 0 { await system.sleep(seconds: slice) }
            left -= slice
        } while left > 0
        return !input.takeInterrupt()
    }

    /// Asks until the answer is y or n; returns an exit status when the user exits instead.
    func ask(_ question: String) async -> Int32? {
        screen.setWorking(false)
        defer {
            screen.line("[sim] status: working")
            screen.setWorking(true)
        }
        while true {
            screen.line("[sim] question: \(question)")
            screen.line("[sim] status: question")
            await system.report(event: "notification", message: question)
            screen.prompt()
            switch await readLine() {
            case .exit(let code): return code
            case .submit(let text):
                await submitted(text)
                let a = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
                if a == "y" || a == "yes" {
                    answer = "y"
                    return nil
                }
                if a == "n" || a == "no" {
                    answer = "n"
                    return nil
                }
            }
        }
    }

    /// Moves a loop to its next item (loading cases with task.get), or leaves it; returns a failure message.
    func advanceLoop(_ run: inout Run) async -> String? {
        let fi = run.frames.count - 1
        switch run.frames[fi].loop {
        case .cases(let ids, var at, _):
            while true {
                at += 1
                guard at < ids.count else {
                    run.frames.removeLast()
                    return nil
                }
                let id = ids[at]
                var loaded: JSON = .obj(["id": id, "steps": [JSON]()])
                switch await connection.call(method: "task.get", params: .obj(["task_id": id])) {
                case .ok(let task):
                    screen.line("[sim] call task.get → ok")
                    loaded = task
                case .error(let message):
                    screen.line("[sim] call task.get → error: \(oneLine(message))")
                    if script.onError == .fail { return "task.get: \(message)" }
                }
                // A case finished or cancelled earlier (a restarted worker) is not done again.
                if let status = loaded["status"]?.stringValue, status == "done" || status == "cancelled" {
                    screen.line("[sim] skip case \(id) (\(status))")
                    continue
                }
                run.frames[fi].loop = .cases(ids: ids, at: at, current: loaded)
                run.frames[fi].index = 0
                return nil
            }
        case .steps(let items, let at):
            guard at + 1 < items.count else {
                run.frames.removeLast()
                return nil
            }
            run.frames[fi].loop = .steps(items: items, at: at + 1)
            run.frames[fi].index = 0
            return nil
        case nil:
            run.frames.removeLast()
            return nil
        }
    }

    // MARK: Variables

    func currentCase(_ run: Run) -> JSON? {
        for f in run.frames.reversed() {
            if case .cases(_, let at, let current)? = f.loop, at >= 0 { return current }
        }
        return nil
    }

    func currentStep(_ run: Run) -> JSON? {
        for f in run.frames.reversed() {
            if case .steps(let items, let at)? = f.loop, items.indices.contains(at) { return items[at] }
        }
        return nil
    }

    func expand(_ text: String, _ run: Run) -> String { SimExpander.expand(text) { self.lookup($0, run) } }

    /// The value of `${name}` while `run` runs.
    func lookup(_ name: String, _ run: Run) -> JSON? {
        let parts = SimExpander.split(name)
        guard let head = parts.first else { return nil }
        let rest = parts.dropFirst()
        switch head {
        case "thread_id":
            if let t = identity.threadId { return .int(t) }
            return assignment.flatMap { SimAssignment.field($0, "thread_id") }
        case "session_id": return assignment.flatMap { SimAssignment.field($0, "session_id") }
        case "role": return .string(identity.role)
        case "input": return .string(run.input)
        case "answer": return answer.map(JSON.string)
        case "case": return currentCase(run).flatMap { SimExpander.resolve($0, path: rest) }
        case "step": return currentStep(run).flatMap { SimExpander.resolve($0, path: rest) }
        case "directive": return rest.first == "n" && rest.count == 1 ? .int(run.directive) : nil
        case "assignment":
            guard let a = assignment else { return nil }
            guard let field = rest.first else { return .object(a) }
            return SimAssignment.field(a, String(field)).flatMap { SimExpander.resolve($0, path: rest.dropFirst()) }
        case "saved":
            guard let key = rest.first, let v = saved[String(key)] else { return nil }
            return SimExpander.resolve(v, path: rest.dropFirst())
        default:
            return nil
        }
    }

    func oneLine(_ s: String) -> String {
        s.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "\r", with: " ")
    }
}
