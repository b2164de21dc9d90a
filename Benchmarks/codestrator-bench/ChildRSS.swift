// `--child-rss`: the memory of a child's server (`serve --role worker`, started with the argv and environment a
// pane gives it) next to the root's, both after the same number of calls, in the same run.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One process's memory, in KiB, from /proc/PID/status and /proc/PID/smaps_rollup (Linux only).
struct MemorySample {
    var rss = 0
    var rssAnon = 0
    var rssFile = 0
    /// Proportional set size: shared pages divided among the processes that map them.
    var pss = 0
    /// Unique set size (Private_Clean + Private_Dirty): what this process alone holds, and what each
    /// additional child adds; the binary's text pages are shared with every other server.
    var uss = 0
    var threads = 0

    static func of(_ pid: pid_t) -> MemorySample? {
        func fields(_ file: String) -> [String: Int]? {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8) else { return nil }
            var out: [String: Int] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let number = parts[1].split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
                if let number { out[String(parts[0])] = number }
            }
            return out
        }
        guard let status = fields("status"), let rollup = fields("smaps_rollup"), (status["VmRSS"] ?? 0) > 0 else {
            return nil
        }
        return MemorySample(
            rss: status["VmRSS"] ?? 0, rssAnon: status["RssAnon"] ?? 0, rssFile: status["RssFile"] ?? 0,
            pss: rollup["Pss"] ?? 0, uss: (rollup["Private_Clean"] ?? 0) + (rollup["Private_Dirty"] ?? 0),
            threads: status["Threads"] ?? 0)
    }
}

struct ChildRSSReport {
    let binary: String
    let calls: Int
    /// (label, sample) in the order measured.
    var samples: [(String, MemorySample)] = []
    var limitKiB = 12 * 1024
    /// The children's servers all alive at once: how many, the sum of their RSS and of their PSS (KiB).
    var together: (count: Int, rss: Int, pss: Int)?

    var childAfterCalls: MemorySample? { samples.first { $0.0.hasPrefix("worker after") }?.1 }

    func table() -> String {
        func mb(_ kib: Int) -> String { String(format: "%.1f", Double(kib) / 1024) }
        func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
        }
        var out = "codestrator-bench --child-rss: \(binary)\n"
        out += "MB (MiB) from /proc/PID/status and smaps_rollup; USS = Private_Clean + Private_Dirty\n\n"
        out += "process".padding(toLength: 40, withPad: " ", startingAt: 0)
        out += ["RSS", "RssAnon", "RssFile", "PSS", "USS", "threads"].map { pad($0, 9) }.joined() + "\n"
        for (label, s) in samples {
            out += label.padding(toLength: 40, withPad: " ", startingAt: 0)
            out +=
                [mb(s.rss), mb(s.rssAnon), mb(s.rssFile), mb(s.pss), mb(s.uss), "\(s.threads)"].map { pad($0, 9) }
                .joined() + "\n"
        }
        if let t = together {
            out +=
                "\n\(t.count) children's servers at once, after \(grouped(calls)) calls each: RSS sum \(mb(t.rss)) MB, "
            out += "PSS sum \(mb(t.pss)) MB (\(mb(t.pss / t.count)) MB each: what they cost together)\n"
        }
        if let child = childAfterCalls {
            let pass = child.rss <= limitKiB
            out += "\ntarget: \(pass ? "PASS" : "FAIL")  child RSS after \(grouped(calls)) calls: \(mb(child.rss)) MB"
            out += " <= \(mb(limitKiB)) MB\n"
        }
        return out
    }

    func json() -> String {
        let rows: [[String: Any]] = samples.map { label, s in
            [
                "process": label, "rss_kib": s.rss, "rss_anon_kib": s.rssAnon, "rss_file_kib": s.rssFile,
                "pss_kib": s.pss, "uss_kib": s.uss, "threads": s.threads,
            ]
        }
        var object: [String: Any] = ["binary": binary, "calls": calls, "samples": rows, "limit_kib": limitKiB]
        if let child = childAfterCalls { object["pass"] = child.rss <= limitKiB }
        if let t = together { object["together"] = ["children": t.count, "rss_sum_kib": t.rss, "pss_sum_kib": t.pss] }
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return data.flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }
}

/// The id in `object[key]["id"]`, or in `object["id"]`.
private func id(_ object: [String: Any], _ key: String, _ what: String) throws -> Int {
    if let id = (object[key] as? [String: Any])?["id"] as? Int { return id }
    if let id = object["id"] as? Int { return id }
    throw BenchError("\(what): result has no \(key).id")
}

/// Starts a root server and one worker thread (a sim pane), then that worker's own server with the argv and
/// environment of a pane (Providers.serverArgs), and makes `calls` calls to each: a mix of ping, tools/list, a task
/// read and a step.check write, the calls a working child makes. Then `children` − 1 more servers of the same
/// thread make the same calls, and all of them are measured together.
func measureChildRSS(binary: String, calls: Int, children: Int) throws -> ChildRSSReport {
    #if !os(Linux)
        throw BenchError("--child-rss reads /proc and runs on Linux only")
    #endif
    let (tmp, repo) = try makeRepository()
    let socket = "codestrator-bench-\(getpid())"
    defer {
        try? run(["tmux", "-L", socket, "kill-server"], stderr: .null)
        try? FileManager.default.removeItem(atPath: tmp)
    }
    let environment = childEnvironment(["CODESTRATOR_TMUX_SOCKET": socket])
    let root = Connection(
        try Child(name: "codestrator (root)", argv: [binary, "serve", "--repo", repo], environment: environment))
    _ = try root.call("initialize", initializeParams)
    try root.child.send(Array(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8) + [10])
    let opened = try root.tool(
        "orch_session", "session.open", #"{"intent":"new_work","user_request":"child rss","agent_role":"sim"}"#)
    let session = try id((opened["session_context"] as? [String: Any]) ?? [:], "session", "session.open")
    let spawned = try root.tool(
        "orch_thread", "thread.child.spawn",
        #"{"session_id":\#(session),"role":"worker","create_worktree":false,"skip_ready_check":true,"agent_override":{"sim_scenario":"echo"}}"#
    )
    let thread = try id(spawned, "thread", "thread.child.spawn")
    func create(_ params: String) throws -> Int {
        try id(try root.tool("orch_task", "task.create", params), "task", "task.create")
    }
    let epic = try create(#"{"level":"epic","title":"rss","session_id":\#(session)}"#)
    let feature = try create(#"{"level":"feature","title":"rss","parent_id":\#(epic)}"#)
    let group = try create(#"{"level":"testgroup","title":"rss","parent_id":\#(feature)}"#)
    let testCase = try create(
        #"{"level":"case","title":"rss","parent_id":\#(group),"assignee_thread_id":\#(thread),"steps":["one","two"]}"#)

    // What a pane gives its MCP server (Providers.plan): the argv and the CODESTRATOR_* variables.
    let workerArgv = [
        binary, "serve", "--repo", repo, "--role", "worker", "--thread-id", "\(thread)", "--session-id", "\(session)",
        "--tmux-socket", socket,
    ]
    let workerVariables = [
        "CODESTRATOR_ROLE": "worker", "CODESTRATOR_THREAD_ID": "\(thread)", "CODESTRATOR_SESSION_ID": "\(session)",
        "CODESTRATOR_REPO": repo, "CODESTRATOR_TMUX_SOCKET": socket,
    ]
    let workerEnvironment = childEnvironment(workerVariables)
    let worker = Connection(try Child(name: "codestrator (worker)", argv: workerArgv, environment: workerEnvironment))
    var report = ChildRSSReport(binary: binary, calls: calls)
    func sample(_ label: String, _ pid: pid_t) throws {
        // Let the process settle (the stdin reader and the first tasks start asynchronously).
        usleep(300_000)
        guard let s = MemorySample.of(pid) else { throw BenchError("cannot read /proc/\(pid)") }
        report.samples.append((label, s))
    }
    _ = try worker.call("initialize", initializeParams)
    try worker.child.send(Array(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8) + [10])
    try sample("worker idle after initialize", worker.child.pid)
    _ = try worker.tool("orch_task", "case.begin", #"{"case_id":\#(testCase),"session_id":\#(session)}"#)
    // The same mix on both servers; the root acts for the thread (thread_id) where the worker is the thread.
    func mix(_ c: Connection, actingFor: String) throws {
        for n in 0..<calls {
            switch n % 4 {
            case 0: _ = try c.call("ping")
            case 1: _ = try c.call("tools/list")
            case 2: _ = try c.tool("orch_task", "task.get", #"{"task_id":\#(testCase)}"#)
            default:
                let params =
                    #"{"case_id":\#(testCase),"session_id":\#(session)\#(actingFor),"step_title":"step \#(n % 50)","result":"ok"}"#
                _ = try c.tool("orch_task", "step.check", params)
            }
        }
    }
    try mix(worker, actingFor: "")
    // With the root serving the session, the worker's process is a relay (docs/runtime-guide.md#child-relay).
    try sample("worker after \(grouped(calls)) calls", worker.child.pid)
    // The same worker served in its own process, as without a root (CODESTRATOR_NO_RELAY), for comparison.
    let inProcessEnvironment = childEnvironment(workerVariables.merging(["CODESTRATOR_NO_RELAY": "1"]) { $1 })
    let inProcess = Connection(
        try Child(name: "codestrator (worker, in-process)", argv: workerArgv, environment: inProcessEnvironment))
    _ = try inProcess.call("initialize", initializeParams)
    try mix(inProcess, actingFor: "")
    try sample("in-process worker after \(grouped(calls)) calls", inProcess.child.pid)
    _ = inProcess.child.finish(grace: 5)
    try mix(root, actingFor: #","thread_id":\#(thread)"#)
    try sample("root after \(grouped(calls)) calls", root.child.pid)
    // More children at once, as in a session with several panes: the binary's pages are shared, so the sum of
    // their PSS (each shared page divided among the processes mapping it) is what they cost together.
    var more: [Connection] = []
    for _ in 1..<children {
        let extra = Connection(
            try Child(name: "codestrator (worker)", argv: workerArgv, environment: workerEnvironment))
        _ = try extra.call("initialize", initializeParams)
        try mix(extra, actingFor: "")
        more.append(extra)
    }
    if children > 1 {
        usleep(300_000)
        let all = try ([worker] + more).map { c in
            guard let s = MemorySample.of(c.child.pid) else { throw BenchError("cannot read /proc/\(c.child.pid)") }
            return s
        }
        report.together = (all.count, all.reduce(0) { $0 + $1.rss }, all.reduce(0) { $0 + $1.pss })
    }
    for c in [worker] + more { _ = c.child.finish(grace: 5) }
    _ = try? root.tool("orch_session", "session.cleanup", "{\"session_id\":\(session)}")
    _ = root.child.finish(grace: 10)
    return report
}
