// codestrator-bench: cold start and stdio round trips of `codestrator serve`, next to the floor of
// the pipe itself (`cat` echoing the same bytes) measured in the same run. A report, not a test: it
// exits 0 even when a target is missed, 1 when the server misbehaves (JSON-RPC error, isError, EOF,
// no reply), 2 on bad usage.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

let usage = """
    usage: codestrator-bench [--binary PATH] [--iterations N] [--cold-starts N] [--json] [--threads]
                             [--no-scale] [--processes N] [--writes N] [--tasks N] [--worktrees N]
                             [--sequential] [--child-rss [--calls N] [--children N]]
      --binary PATH     server to measure (default: codestrator next to this executable)
      --iterations N    timed calls per measure, after 50 warm-ups (default 2000)
      --cold-starts N   fresh spawns timed from spawn to the initialize reply (default 30)
      --json            print the figures as one JSON object instead of a table
      --sequential      time the stdio series one after another instead of call by call in turn
      --threads         also measure thread.child.list with 32 and 64 live sim children, and spawn
                        latency (without readiness) next to the raw tmux commands
      --no-scale        skip the scale figures below (concurrent writers, large session, worktrees)
      --processes N     server processes writing at once, next to 1 alone (default 8)
      --writes N        writes per process, one in flight at a time (default 1000)
      --tasks N         tasks of the large session for task.list / resume.next (default 10000, >= 350)
      --worktrees N     timed worktree.spawn + worktree.remove rounds next to raw git (default 30)
      --child-rss       only measure memory: a child's server (serve --role worker, as a pane starts it)
                        and the root, each after --calls N calls (default 1000), then --children N
                        such servers at once (default 8); Linux only
    """

struct Options {
    var binary: String?
    var iterations = 2000
    var coldStarts = 30
    var json = false
    var threads = false
    var scale = true
    var processes = 8
    var writes = 1000
    var tasks = 10_000
    var worktrees = 30
    var sequential = false
    var childRSS = false
    var calls = 1000
    var children = 8

    init(_ args: [String]) throws {
        var rest = args[...]
        func value(_ flag: String) throws -> String {
            guard let value = rest.popFirst() else { throw BenchError("\(flag) needs a value") }
            return value
        }
        func count(_ flag: String) throws -> Int {
            let text = try value(flag)
            guard let n = Int(text), n >= 1 else {
                throw BenchError("\(flag) is \"\(text)\"; expected an integer >= 1")
            }
            return n
        }
        while let arg = rest.popFirst() {
            switch arg {
            case "--binary": binary = try value(arg)
            case "--iterations": iterations = try count(arg)
            case "--cold-starts": coldStarts = try count(arg)
            case "--json": json = true
            case "--threads": threads = true
            case "--no-scale": scale = false
            case "--sequential": sequential = true
            case "--child-rss": childRSS = true
            case "--calls": calls = try count(arg)
            case "--children": children = try count(arg)
            case "--processes": processes = try count(arg)
            case "--writes": writes = try count(arg)
            case "--tasks":
                tasks = try count(arg)
                // 10 epics, 50 features and 250 testgroups come first, then cases: 4 of the first 40 are
                // begun and 2 blocked.
                guard tasks >= 350 else { throw BenchError("--tasks is \(tasks); expected at least 350") }
            case "--worktrees": worktrees = try count(arg)
            case "-h", "--help":
                print(usage)
                exit(0)
            default: throw BenchError("unknown argument \"\(arg)\"")
            }
        }
    }
}

/// Default server: `codestrator` in the directory of this executable (both land in .build/release).
/// When started through PATH, argv[0] has no directory, so ask Foundation where the executable is.
func defaultBinary() -> String {
    let argv0 = CommandLine.arguments[0]
    let me = argv0.contains("/") ? argv0 : (Bundle.main.executablePath ?? argv0)
    return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("codestrator")
        .path
}

/// A throwaway git repository with one commit (session.open branches a worktree from it). Returns
/// the temporary directory that holds it (to remove afterwards) and the repository path.
func makeRepository() throws -> (tmp: String, repo: String) {
    var template = Array(
        (FileManager.default.temporaryDirectory.path + "/codestrator-bench.XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer {
        mkdtemp($0.baseAddress!).map { String(cString: $0) }
    }
    guard let tmp = made else { throw BenchError("cannot create a temporary directory") }
    let repo = tmp + "/repo"
    try run(["git", "init", "-q", "-b", "main", repo])
    // -c rather than the user's config: no identity needed, no signing prompt.
    let identity = [
        "-c", "user.name=codestrator-bench", "-c", "user.email=bench@localhost", "-c",
        "commit.gpgsign=false",
    ]
    try run(["git", "-C", repo] + identity + ["commit", "-q", "--allow-empty", "-m", "bench"])
    return (tmp, repo)
}

/// Untimed calls before each timed series: first-call costs (statement preparation, lazy setup,
/// page faults) are not what a working session sees.
let warmupCalls = 50
let initializeParams =
    #"{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}"#

/// Cold start: spawn -> initialize reply, each on a fresh process. The first spawn is not timed: it
/// pulls the binary and its libraries into the page cache, where they are for any later start.
func measureColdStarts(_ count: Int, argv: [String], environment: [String], warnings: inout [String])
    throws -> Stats
{
    var nanos: [UInt64] = []
    var lateExits = 0
    for n in 0...count {
        let start = monotonicNanos()
        let fresh = Connection(try Child(name: "codestrator", argv: argv, environment: environment))
        let reply = try fresh.roundTrip(
            (1, requestLine(id: 1, method: "initialize", params: initializeParams)))
        _ = try Connection.result(of: reply.message, "initialize")
        if n > 0 { nanos.append(reply.arrived - start) }
        if !fresh.child.finish(grace: 2) { lateExits += 1 }
    }
    if lateExits > 0 {
        warnings.append("\(lateExits) fresh servers did not exit 0 within 2 s of stdin EOF")
    }
    return Stats(name: "cold start (spawn -> initialize)", nanos: nanos)
}

func runBench(_ options: Options) throws -> Report {
    let binary = options.binary ?? defaultBinary()
    guard access(binary, X_OK) == 0 else {
        throw BenchError(
            "no server executable at \(binary); build it (swift build -c release) or pass --binary PATH")
    }
    var warnings: [String] = []
    if binary.contains("/debug/") {
        warnings.append("\(binary) looks like a debug build; the targets are for release")
    }

    let (tmp, repo) = try makeRepository()
    // A private tmux server (socket name), so session.open's viewer session never lands in the
    // user's tmux. Ending that tmux server at the end ends the panes the server made.
    let socket = "codestrator-bench-\(getpid())"
    defer {
        try? run(["tmux", "-L", socket, "kill-server"], stderr: .null)
        try? FileManager.default.removeItem(atPath: tmp)
    }
    let environment = childEnvironment(["CODESTRATOR_TMUX_SOCKET": socket])
    let serverArgv = [binary, "serve", "--repo", repo]

    // Round trips on one long-lived server, the way an agent CLI uses it.
    let server = Connection(try Child(name: "codestrator", argv: serverArgv, environment: environment))
    let info = try server.call("initialize", initializeParams)
    if info["protocolVersion"] as? String != "2025-06-18" {
        warnings.append("initialize answered protocolVersion \(info["protocolVersion"] ?? "nil")")
    }
    let serverVersion = (info["serverInfo"] as? [String: Any])?["version"] as? String ?? "unknown"
    try server.child.send(Array(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8) + [10])
    let opened = try server.tool(
        "orch_session", "session.open",
        #"{"intent":"new_work","user_request":"bench run","agent_role":"sim"}"#)
    let sessionRow = (opened["session_context"] as? [String: Any])?["session"] as? [String: Any]
    guard let session = sessionRow?["id"] as? Int else {
        throw BenchError("session.open: result has no session_context.session.id")
    }
    // A fixed small task tree, so the read returns real rows whatever --iterations is (the
    // task.create series adds its epics to a second session).
    for n in 1...20 {
        let params = #"{"level":"epic","title":"seed \#(n)","session_id":\#(session)}"#
        _ = try server.tool("orch_task", "task.create", params)
    }
    let total = warmupCalls + options.iterations
    let sessionParams = "{\"session_id\":\(session)}"
    // The writes go to a second session, so the read keeps returning the same 20 tasks while the
    // series run side by side.
    let writeOpened = try server.tool(
        "orch_session", "session.open",
        #"{"intent":"new_work","user_request":"bench writes","agent_role":"sim"}"#)
    guard
        let writeSession = ((writeOpened["session_context"] as? [String: Any])?["session"] as? [String: Any])?["id"]
            as? Int
    else {
        throw BenchError("session.open: result has no session_context.session.id")
    }
    let creates = server.requests(total) { id, n in
        let params = "{\"level\":\"epic\",\"title\":\"bench epic \(n)\",\"session_id\":\(writeSession)}"
        return toolLine(id: id, "orch_task", "task.create", params)
    }
    // The floor: `cat` echoes exactly the task.create lines; the echo carries the same id, so the
    // same reader and id matching apply.
    let cat = Connection(try Child(name: "cat", argv: ["cat"], environment: childEnvironment()))
    let series = [
        Series(name: "pipe floor (cat, task.create bytes)", connection: cat, requests: creates, check: nil),
        Series(
            name: "ping", connection: server,
            requests: server.requests(total) { id, _ in requestLine(id: id, method: "ping") }, check: "ping"),
        Series(
            name: "task.list (read, 20 tasks)", connection: server,
            requests: server.requests(total) { id, _ in toolLine(id: id, "orch_task", "task.list", sessionParams) },
            check: "task.list"),
        Series(
            name: "session.heartbeat (light write)", connection: server,
            requests: server.requests(total) { id, _ in
                toolLine(id: id, "orch_session", "session.heartbeat", sessionParams)
            }, check: "session.heartbeat"),
        Series(name: "task.create (write)", connection: server, requests: creates, check: "task.create"),
    ]
    let measured = try options.sequential ? series.map { try measureInterleaved([$0])[0] } : measureInterleaved(series)
    _ = cat.child.finish(grace: 2)
    let (floor, ping, list, beat, create) = (measured[0], measured[1], measured[2], measured[3], measured[4])
    // The same reads over Streamable HTTP (a second server process on the same repository).
    let httpRounds = try measureHTTP(
        binary: binary, repo: repo, session: session, iterations: options.iterations, environment: environment)
    var threadRounds: [Stats] = []
    if options.threads {
        threadRounds = try measureThreads(server, repo: repo, socket: socket, environment: environment)
    }
    // Issue #9: each figure next to a baseline of this run.
    var comparisons: [Comparison] = []
    var lists: ListFigures?
    var writes: WriteFigures?
    if options.scale {
        comparisons += try measureWorktrees(server, repo: repo, rounds: options.worktrees)
        let listed = try measureLists(server, tasks: options.tasks, iterations: min(options.iterations, 500))
        comparisons = listed.comparisons + comparisons
        lists = listed
        writes = try measureConcurrentWrites(
            processes: options.processes, writes: options.writes, argv: serverArgv, environment: environment,
            warnings: &warnings)
    }
    if !server.child.finish(grace: 10) {
        warnings.append("the server did not exit 0 within 10 s of stdin EOF")
    }

    // After the run above, so fresh servers find an existing database, as on a real restart.
    let cold = try measureColdStarts(
        options.coldStarts, argv: serverArgv, environment: environment, warnings: &warnings)

    var report = Report(
        binary: binary, serverVersion: serverVersion, iterations: options.iterations,
        warmup: warmupCalls, floor: floor, ping: ping, rounds: [ping, list, beat, create] + httpRounds + threadRounds,
        coldStart: cold,
        targets: [
            Target(label: "task.create p50", value: create.p50, limit: 0.8, unit: "ms"),
            Target(
                label: "task.create p50 / ping p50", value: create.p50 / ping.p50, limit: 3, unit: "x"),
            Target(label: "cold start p50", value: cold.p50, limit: 25, unit: "ms"),
        ]
            + threadRounds.filter { $0.name.hasPrefix("thread.child.list") }.map {
                Target(label: "\($0.name) p50", value: $0.p50, limit: 25, unit: "ms")
            },
        warnings: warnings)
    report.comparisons = comparisons
    report.sequential = options.sequential
    report.writes = writes
    if let lists {
        report.notes.append(
            "seeding the \(grouped(lists.tasks))-task session through task.create, case.begin, step.check, "
                + "case.complete took \(String(format: "%.1f", lists.seedSeconds)) s")
        report.targets.append(Target(label: "\(lists.large.name) p50", value: lists.large.p50, limit: 10, unit: "ms"))
    }
    if let writes {
        let w = writes.together
        report.targets.append(
            Target(
                label: "\(w.processes) processes x \(w.writesEach) writes: errors", value: Double(w.errorCount),
                limit: 0, unit: "errors", digits: 0))
    }
    return report
}

/// 10000 -> "10,000".
func grouped(_ n: Int) -> String {
    let digits = Array(String(n))
    var out = ""
    for (i, d) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
        out.append(d)
    }
    return out
}

@main
struct CodestratorBench {
    static func main() {
        // A server that dies must surface as EPIPE from write(2), which we report, rather than kill the
        // bench.
        signal(SIGPIPE, SIG_IGN)
        let options: Options
        do {
            options = try Options(Array(CommandLine.arguments.dropFirst()))
        } catch {
            FileHandle.standardError.write(Data("codestrator-bench: \(error)\n\(usage)\n".utf8))
            exit(2)
        }
        do {
            if options.childRSS {
                let report = try measureChildRSS(
                    binary: options.binary ?? defaultBinary(), calls: options.calls, children: options.children)
                print(options.json ? report.json() : report.table(), terminator: options.json ? "\n" : "")
                exit(0)
            }
            let report = try runBench(options)
            print(options.json ? report.json() : report.table(), terminator: options.json ? "\n" : "")
        } catch {
            FileHandle.standardError.write(Data("codestrator-bench: \(error)\n".utf8))
            exit(1)
        }
    }
}

/// Spawns `count` sim children (scenario echo, no readiness wait) in a new session; returns the spawn
/// latencies in nanoseconds and the session id.
func spawnChildren(_ server: Connection, count: Int, name: String) throws -> ([UInt64], Int) {
    let opened = try server.tool(
        "orch_session", "session.open",
        #"{"intent":"new_work","user_request":"\#(name)","agent_role":"sim","max_concurrent_children":32}"#)
    guard let sid = ((opened["session_context"] as? [String: Any])?["session"] as? [String: Any])?["id"] as? Int else {
        throw BenchError("session.open: no session id")
    }
    var nanos: [UInt64] = []
    for _ in 0..<count {
        let start = monotonicNanos()
        _ = try server.tool(
            "orch_thread", "thread.child.spawn",
            #"{"session_id":\#(sid),"role":"worker","create_worktree":false,"skip_ready_check":true,"agent_override":{"sim_scenario":"echo"}}"#
        )
        nanos.append(monotonicNanos() - start)
    }
    return (nanos, sid)
}

/// thread.child.list with 32 live children in a session and with 64 across two, and spawn latency
/// next to the raw tmux commands a spawn runs (split-window + select-layout), in the same run.
func measureThreads(_ server: Connection, repo: String, socket: String, environment: [String]) throws -> [Stats] {
    let (spawnNanos, first) = try spawnChildren(server, count: 32, name: "bench threads one")
    // The raw floor: the same number of panes split and re-tiled in a plain tmux session.
    try run([
        "tmux", "-L", socket, "new-session", "-d", "-s", "bench-raw", "-x", "200", "-y", "50", "--", "sleep", "3600",
    ])
    var raw: [UInt64] = []
    for _ in 0..<32 {
        let start = monotonicNanos()
        try run(["tmux", "-L", socket, "split-window", "-d", "-t", "=bench-raw:", "--", "sleep", "3600"])
        try run(["tmux", "-L", socket, "select-layout", "-t", "=bench-raw:", "tiled"])
        raw.append(monotonicNanos() - start)
    }
    let iterations = 200
    let list32 = try server.measure(
        "thread.child.list (32 children)",
        server.requests(warmupCalls + iterations) { id, _ in
            toolLine(id: id, "orch_thread", "thread.child.list", "{\"session_id\":\(first)}")
        }, check: "thread.child.list")
    let (_, second) = try spawnChildren(server, count: 32, name: "bench threads two")
    let list64 = try server.measure(
        "thread.child.list (64 in 2 sessions)",
        server.requests(warmupCalls + iterations) { id, n in
            toolLine(id: id, "orch_thread", "thread.child.list", "{\"session_id\":\(n % 2 == 0 ? first : second)}")
        }, check: "thread.child.list")
    for sid in [first, second] {
        _ = try? server.tool("orch_session", "session.cleanup", "{\"session_id\":\(sid)}")
    }
    return [
        Stats(name: "thread.child.spawn (no readiness)", nanos: spawnNanos),
        Stats(name: "raw tmux split-window + tiled", nanos: raw), list32, list64,
    ]
}
