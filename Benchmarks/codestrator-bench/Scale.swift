// The figures of issue #9, each next to a baseline measured in the same run: several server processes
// writing to one database at once, task.list and resume.next over a 10,000-task session, and
// worktree.spawn / worktree.remove next to the raw git commands.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A measure next to its baseline; ratios compare p50 with p50 and p99 with p99.
struct Comparison {
    let measured: Stats
    let baseline: Stats
}

/// One run of the concurrent-write series: `processes` servers, each sending `writesEach` writes one
/// after another, all started at the same moment.
struct WriteRun {
    let processes: Int
    let writesEach: Int
    let wallSeconds: Double
    /// Writes sent: fewer than `processes * writesEach` when a writer could not be set up.
    let completed: Int
    let stats: Stats
    /// Failed calls by error code (a JSON-RPC error counts under `jsonrpc <code>`), with the first
    /// message of each.
    let errors: [String: (count: Int, first: String)]

    var writes: Int { processes * writesEach }
    var writesPerSecond: Double { Double(completed) / wallSeconds }
    var errorCount: Int { errors.values.reduce(0) { $0 + $1.count } }
}

/// The concurrent-write figures: `alone` is one process with the same per-process load.
struct WriteFigures {
    let alone: WriteRun
    let together: WriteRun
    let mix: String
}

extension Connection {
    /// nil when `message` is a successful result; otherwise the error code (`busy`, `internal`, …, or
    /// `jsonrpc <code>`) and its message.
    static func failure(of message: [String: Any]) -> (code: String, message: String)? {
        if let error = message["error"] as? [String: Any] {
            return ("jsonrpc \(error["code"] ?? "?")", "\(error["message"] ?? error)")
        }
        guard let result = message["result"] as? [String: Any] else { return ("no result", "\(message)") }
        guard result["isError"] as? Bool == true else { return nil }
        let error = (result["structuredContent"] as? [String: Any])?["error"] as? [String: Any]
        let text = (result["content"] as? [[String: Any]])?.first?["text"] as? String
        return (error?["code"] as? String ?? "isError", error?["message"] as? String ?? text ?? "\(result)")
    }

    /// Sends `requests` with up to `window` in flight (the server runs the calls of one connection
    /// concurrently) and returns each reply's structuredContent by request id. Only for seeding:
    /// nothing here is timed. Any failed call ends the run.
    func pipeline(_ requests: [Request], window: Int = 32, what: String) throws -> [Int: [String: Any]] {
        var results: [Int: [String: Any]] = [:]
        results.reserveCapacity(requests.count)
        var pending = Set<Int>()
        var next = 0
        while results.count < requests.count {
            while pending.count < window && next < requests.count {
                try child.send(requests[next].line)
                pending.insert(requests[next].id)
                next += 1
            }
            guard let line = try child.output.nextLine(timeoutMs: 30_000) else {
                throw BenchError("\(child.name) closed stdout (EOF) during \(what)")
            }
            if line.isEmpty { continue }
            guard let message = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let id = message["id"] as? Int, pending.remove(id) != nil
            else { continue }  // notifications
            let result = try Self.result(of: message, what)
            guard let content = result["structuredContent"] as? [String: Any] else {
                throw BenchError("\(what): result has no structuredContent object")
            }
            results[id] = content
        }
        return results
    }

    /// Ids of the `id` fields of the replies to `requests`, in request order.
    func createAll(_ requests: [Request], what: String) throws -> [Int] {
        let replies = try pipeline(requests, what: what)
        return try requests.map { request in
            guard let id = replies[request.id]?["id"] as? Int else { throw BenchError("\(what): reply has no id") }
            return id
        }
    }
}

/// Opens a session and returns its id.
func openSession(_ connection: Connection, _ request: String) throws -> Int {
    let opened = try connection.tool(
        "orch_session", "session.open", #"{"intent":"new_work","user_request":"\#(request)","agent_role":"sim"}"#)
    guard let sid = ((opened["session_context"] as? [String: Any])?["session"] as? [String: Any])?["id"] as? Int
    else {
        throw BenchError("session.open: result has no session_context.session.id")
    }
    return sid
}

/// Starts `argv` (`codestrator serve --repo R`) and completes the initialize handshake.
func startServer(_ argv: [String], environment: [String]) throws -> Connection {
    let connection = Connection(try Child(name: "codestrator", argv: argv, environment: environment))
    _ = try connection.call("initialize", initializeParams)
    try connection.child.send(Array(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8) + [10])
    return connection
}

// MARK: - Several processes writing at once

/// One server process of the write series with its pre-built writes; runs them on its own thread.
final class Writer: @unchecked Sendable {
    let connection: Connection
    let requests: [Request]
    var nanos: [UInt64] = []
    var errors: [String: (count: Int, first: String)] = [:]
    var broken: (any Error)?

    /// Opens its own session on a started server and plans a case with steps to check, then builds the
    /// writes: half `task.create` (a case with two planned steps under the writer's testgroup), a
    /// quarter `session.heartbeat`, a quarter `step.check` of the begun case's steps in turn.
    init(_ connection: Connection, index: Int, writes: Int) throws {
        let sid = try openSession(connection, "bench writer \(index)")
        func create(_ level: String, _ parent: Int?, _ title: String, extra: String = "") throws -> [String: Any] {
            let parentField = parent.map { ",\"parent_id\":\($0)" } ?? ",\"session_id\":\(sid)"
            return try connection.tool(
                "orch_task", "task.create", #"{"level":"\#(level)","title":"\#(title)"\#(parentField)\#(extra)}"#)
        }
        guard let epic = try create("epic", nil, "writer \(index)")["id"] as? Int,
            let feature = try create("feature", epic, "writes")["id"] as? Int,
            let group = try create("testgroup", feature, "concurrency")["id"] as? Int,
            let caseId = try create("case", group, "checked", extra: #","steps":["a","b","c","d"]"#)["id"] as? Int
        else { throw BenchError("task.create: reply has no id") }
        let begun = try connection.tool("orch_task", "case.begin", "{\"case_id\":\(caseId)}")
        let steps = (begun["steps"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } ?? []
        guard !steps.isEmpty else { throw BenchError("case.begin: reply has no steps") }
        self.connection = connection
        requests = connection.requests(writes) { id, n in
            switch n % 4 {
            case 1:
                return toolLine(id: id, "orch_session", "session.heartbeat", "{\"session_id\":\(sid)}")
            case 3:
                let step = steps[(n / 4) % steps.count]
                return toolLine(
                    id: id, "orch_task", "step.check",
                    #"{"case_id":\#(caseId),"step_id":\#(step),"status":"done","result":"check \#(n)"}"#)
            default:
                return toolLine(
                    id: id, "orch_task", "task.create",
                    #"{"level":"case","title":"case \#(n)","parent_id":\#(group),"steps":["red","green"]}"#)
            }
        }
    }

    /// The writes, one in flight at a time, the way one agent uses its server. Failed calls are
    /// counted, not thrown; a dead or silent server stops this writer.
    func run() {
        nanos.reserveCapacity(requests.count)
        for request in requests {
            do {
                let reply = try connection.roundTrip(request)
                nanos.append(reply.arrived - reply.sent)
                if let failure = Connection.failure(of: reply.message) {
                    let seen = errors[failure.code]
                    errors[failure.code] = ((seen?.count ?? 0) + 1, seen?.first ?? failure.message)
                }
            } catch {
                broken = error
                return
            }
        }
    }
}

/// One thread's part of a write run: its writer, or why it could not be set up.
final class WriterSlot: @unchecked Sendable {
    var writer: Writer?
    var setupError: (any Error)?
}

/// Starts `processes` servers on `argv`'s repository at once, each on its own thread, as agents
/// started together would; once all have answered `initialize`, all open their own session (each
/// with its own worktree) and plan their case at the same moment. Once all are ready, their writes
/// are released at the same moment; wall time runs from then until the last reply. A writer that
/// cannot be set up counts as an error.
func writeRun(processes: Int, writes: Int, argv: [String], environment: [String], warnings: inout [String])
    throws -> WriteRun
{
    let slots = (0..<processes).map { _ in WriterSlot() }
    let openGate = DispatchSemaphore(value: 0)
    let gate = DispatchSemaphore(value: 0)
    let started = DispatchGroup()
    let ready = DispatchGroup()
    let done = DispatchGroup()
    for (index, slot) in slots.enumerated() {
        started.enter()
        ready.enter()
        done.enter()
        let thread = Thread {
            var connection: Connection?
            do {
                connection = try startServer(argv, environment: environment)
            } catch {
                slot.setupError = error
            }
            started.leave()
            openGate.wait()
            do {
                if let connection { slot.writer = try Writer(connection, index: index, writes: writes) }
            } catch {
                slot.setupError = error
            }
            ready.leave()
            gate.wait()
            slot.writer?.run()
            done.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    started.wait()
    usleep(20_000)  // every thread is parked on the gate
    for _ in slots { openGate.signal() }
    ready.wait()
    usleep(20_000)
    let start = monotonicNanos()
    for _ in slots { gate.signal() }
    done.wait()
    let wall = Double(monotonicNanos() - start) / 1e9
    var errors: [String: (count: Int, first: String)] = [:]
    for slot in slots {
        if let setup = slot.setupError {
            let before = errors["setup"]
            errors["setup"] = ((before?.count ?? 0) + 1, before?.first ?? "\(setup)")
        }
        guard let writer = slot.writer else { continue }
        if let broken = writer.broken { throw BenchError("writer stopped: \(broken)") }
        for (code, seen) in writer.errors {
            let before = errors[code]
            errors[code] = ((before?.count ?? 0) + seen.count, before?.first ?? seen.first)
        }
    }
    let writers = slots.compactMap(\.writer)
    guard !writers.isEmpty else {
        throw BenchError("no writer could be set up: \(errors["setup"]?.first ?? "?")")
    }
    var late = 0
    for writer in writers where !writer.connection.child.finish(grace: 10) { late += 1 }
    if late > 0 { warnings.append("\(late) writer servers did not exit 0 within 10 s of stdin EOF") }
    return WriteRun(
        processes: processes, writesEach: writes, wallSeconds: wall, completed: writers.count * writes,
        stats: Stats(name: "\(processes) x \(writes) writes", nanos: writers.flatMap(\.nanos)), errors: errors)
}

func measureConcurrentWrites(
    processes: Int, writes: Int, argv: [String], environment: [String], warnings: inout [String]
) throws -> WriteFigures {
    let alone = try writeRun(
        processes: 1, writes: writes, argv: argv, environment: environment, warnings: &warnings)
    let together = try writeRun(
        processes: processes, writes: writes, argv: argv, environment: environment, warnings: &warnings)
    return WriteFigures(
        alone: alone, together: together,
        mix: "task.create of a case with 2 steps 50%, session.heartbeat 25%, step.check 25%")
}

// MARK: - task.list and resume.next over a large session

/// Seeds a session with `tasks` tasks: 10 epics, 5 features each, 5 testgroups each and cases (3
/// planned steps each) up to `tasks`, priorities -3…3; every 10th case is done (begun, steps checked,
/// completed), 4 are in progress and 2 blocked. Returns the session id and the seeding time.
func seedLargeSession(_ server: Connection, tasks: Int) throws -> (session: Int, seconds: Double) {
    let start = monotonicNanos()
    let sid = try openSession(server, "bench \(tasks) tasks")
    func creates(_ parents: [Int?], _ level: String, _ title: String, extra: (Int) -> String = { _ in "" })
        -> [Request]
    {
        server.requests(parents.count) { id, n in
            let parent = parents[n].map { ",\"parent_id\":\($0)" } ?? ",\"session_id\":\(sid)"
            let params =
                #"{"level":"\#(level)","title":"\#(title) \#(n)","priority":\#(n % 7 - 3)\#(parent)\#(extra(n))}"#
            return toolLine(id: id, "orch_task", "task.create", params)
        }
    }
    let epics = try server.createAll(creates(Array(repeating: nil, count: 10), "epic", "epic"), what: "seed epics")
    let features = try server.createAll(
        creates(epics.flatMap { Array(repeating: $0, count: 5) }, "feature", "feature"), what: "seed features")
    let groups = try server.createAll(
        creates(features.flatMap { Array(repeating: $0, count: 5) }, "testgroup", "testgroup"),
        what: "seed testgroups")
    let caseCount = max(0, tasks - epics.count - features.count - groups.count)
    let cases = try server.createAll(
        creates((0..<caseCount).map { groups[$0 % groups.count] }, "case", "case") { _ in
            #","steps":["design","implement","verify"]"#
        }, what: "seed cases")

    // Progress: every 10th case done, then 4 in progress and 2 blocked among the rest.
    let done = stride(from: 0, to: cases.count, by: 10).map { cases[$0] }
    let begun = try server.pipeline(
        server.requests(done.count + 4) { id, n in
            let c = n < done.count ? done[n] : cases[5 + 10 * (n - done.count)]
            return toolLine(id: id, "orch_task", "case.begin", "{\"case_id\":\(c)}")
        }, what: "seed case.begin")
    let stepIds = begun.values.compactMap { ($0["steps"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } }
    let doneSet = Set(done)
    let checks = begun.values.compactMap { reply -> [(Int, Int)]? in
        guard let c = reply["id"] as? Int, doneSet.contains(c) else { return nil }
        return ((reply["steps"] as? [[String: Any]]) ?? []).compactMap { ($0["id"] as? Int).map { (c, $0) } }
    }.flatMap { $0 }
    guard stepIds.count == begun.count else { throw BenchError("case.begin: reply has no steps") }
    _ = try server.pipeline(
        server.requests(checks.count) { id, n in
            toolLine(
                id: id, "orch_task", "step.check",
                #"{"case_id":\#(checks[n].0),"step_id":\#(checks[n].1),"status":"done","result":"seeded"}"#)
        }, what: "seed step.check")
    _ = try server.pipeline(
        server.requests(done.count) { id, n in
            toolLine(id: id, "orch_task", "case.complete", "{\"case_id\":\(done[n])}")
        }, what: "seed case.complete")
    _ = try server.pipeline(
        server.requests(2) { id, n in
            toolLine(
                id: id, "orch_task", "task.update",
                #"{"task_id":\#(cases[7 + 10 * n]),"status":"blocked","reason":"waiting"}"#)
        }, what: "seed task.update")
    let counted = try server.tool("orch_task", "task.list", "{\"session_id\":\(sid),\"limit\":1}")
    guard counted["total"] as? Int == tasks else {
        throw BenchError("seeding made \(counted["total"] ?? "nil") tasks; expected \(tasks)")
    }
    return (sid, Double(monotonicNanos() - start) / 1e9)
}

/// A session of 20 tasks with the same shape: 1 epic, 1 feature, 2 testgroups, 16 cases of 3 steps.
func seedSmallSession(_ server: Connection) throws -> Int {
    let sid = try openSession(server, "bench 20 tasks")
    func create(_ level: String, _ parent: Int?, _ n: Int, steps: Bool = false) throws -> Int {
        let parentField = parent.map { ",\"parent_id\":\($0)" } ?? ",\"session_id\":\(sid)"
        let extra = steps ? #","steps":["design","implement","verify"]"# : ""
        let params =
            #"{"level":"\#(level)","title":"\#(level) \#(n)","priority":\#(n % 7 - 3)\#(parentField)\#(extra)}"#
        guard let id = try server.tool("orch_task", "task.create", params)["id"] as? Int else {
            throw BenchError("task.create: reply has no id")
        }
        return id
    }
    let epic = try create("epic", nil, 0)
    let feature = try create("feature", epic, 0)
    let groups = [try create("testgroup", feature, 0), try create("testgroup", feature, 1)]
    for n in 0..<16 { _ = try create("case", groups[n % 2], n, steps: true) }
    return sid
}

struct ListFigures {
    let comparisons: [Comparison]
    let large: Stats  // task.list, 100 rows of the large session
    let tasks: Int
    let seedSeconds: Double
}

/// task.list (100 rows: the first page and one deep page) and resume.next on a `tasks`-task session,
/// next to the same calls on a 20-task session and to ping.
func measureLists(_ server: Connection, tasks: Int, iterations: Int) throws -> ListFigures {
    let small = try seedSmallSession(server)
    let (large, seconds) = try seedLargeSession(server, tasks: tasks)
    func series(_ name: String, _ method: String, _ params: String) throws -> Stats {
        try server.measure(
            name,
            server.requests(warmupCalls + iterations) { id, _ in toolLine(id: id, "orch_task", method, params) },
            check: method)
    }
    let n = grouped(tasks)
    let ping = try server.measure(
        "ping", server.requests(warmupCalls + iterations) { id, _ in requestLine(id: id, method: "ping") },
        check: "ping")
    let listSmall = try series("task.list (20 tasks)", "task.list", "{\"session_id\":\(small),\"limit\":100}")
    let listLarge = try series(
        "task.list limit 100 (\(n) tasks)", "task.list", "{\"session_id\":\(large),\"limit\":100}")
    let listDeep = try series(
        "task.list limit 100 offset \(tasks / 2)", "task.list",
        "{\"session_id\":\(large),\"limit\":100,\"offset\":\(tasks / 2)}")
    let casesPage = try series(
        "task.list todo cases, 100 (\(n))", "task.list",
        "{\"session_id\":\(large),\"level\":\"case\",\"status\":\"todo\",\"limit\":100}")
    let resumeSmall = try series("resume.next (20 tasks)", "resume.next", "{\"session_id\":\(small)}")
    let resumeLarge = try series("resume.next (\(n) tasks)", "resume.next", "{\"session_id\":\(large)}")
    return ListFigures(
        comparisons: [
            Comparison(measured: listLarge, baseline: listSmall),
            Comparison(measured: listLarge, baseline: ping),
            Comparison(measured: listDeep, baseline: listSmall),
            Comparison(measured: casesPage, baseline: listSmall),
            Comparison(measured: resumeLarge, baseline: resumeSmall),
            Comparison(measured: resumeLarge, baseline: ping),
        ], large: listLarge, tasks: tasks, seedSeconds: seconds)
}

// MARK: - worktree.spawn / worktree.remove next to git

/// `rounds` worktree.spawn + worktree.remove through the server, interleaved with the git commands
/// they come down to (`git worktree add -b`, then `git worktree remove` and `git branch -D`), so both
/// see the same machine. Returns spawn vs add and remove vs remove.
func measureWorktrees(_ server: Connection, repo: String, rounds: Int) throws -> [Comparison] {
    let sid = try openSession(server, "bench worktrees")
    let raw = repo + "/.codestrator/worktrees"
    var spawn: [UInt64] = []
    var remove: [UInt64] = []
    var add: [UInt64] = []
    var rawRemove: [UInt64] = []
    for n in 0..<(rounds + 2) {
        var start = monotonicNanos()
        let made = try server.tool(
            "orch_workspace", "worktree.spawn", "{\"session_id\":\(sid),\"slug\":\"bench-spawn-\(n)\"}")
        let spawned = monotonicNanos() - start
        guard let wid = made["id"] as? Int else { throw BenchError("worktree.spawn: reply has no id") }
        start = monotonicNanos()
        _ = try server.tool("orch_workspace", "worktree.remove", "{\"worktree_id\":\(wid)}")
        let removed = monotonicNanos() - start

        let branch = "bench-raw-\(n)"
        let path = "\(raw)/bench-raw-\(n)"
        start = monotonicNanos()
        try run(["git", "-C", repo, "worktree", "add", "-q", "-b", branch, path, "HEAD"], stderr: .null)
        let added = monotonicNanos() - start
        start = monotonicNanos()
        try run(["git", "-C", repo, "worktree", "remove", path])
        try run(["git", "-C", repo, "branch", "-q", "-D", branch])
        let rawRemoved = monotonicNanos() - start
        if n >= 2 {  // the first two rounds warm the page cache and git's own files
            spawn.append(spawned)
            remove.append(removed)
            add.append(added)
            rawRemove.append(rawRemoved)
        }
    }
    _ = try? server.tool("orch_session", "session.cleanup", "{\"session_id\":\(sid)}")
    return [
        Comparison(
            measured: Stats(name: "worktree.spawn", nanos: spawn),
            baseline: Stats(name: "git worktree add -b", nanos: add)),
        Comparison(
            measured: Stats(name: "worktree.remove", nanos: remove),
            baseline: Stats(name: "git worktree remove + branch -D", nanos: rawRemove)),
    ]
}
