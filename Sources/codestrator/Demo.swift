import ArgumentParser
import CodestratorCore
import Foundation
import SimAgent

/// `codestrator demo`: the whole loop with sim agents in a throwaway repository (docs/install.md#demo), driven
/// as an MCP client of `codestrator serve`, exactly as a root CLI would.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole loop with simulated agents in a throwaway repository.")

    @Flag(help: "Keep the repository and the tmux server afterwards.") var keep = false
    @Flag(help: "Normal speed; wait for Enter so you can watch the panes.") var watch = false
    @Flag(help: "The reviewer blocks: main must stay unchanged.") var block = false
    @Flag(help: "Serve the web dashboard beside the demo and print its link.") var dashboard = false
    @Option(help: "Where to create the demo repository.") var dir: String?
    @Option(name: .customLong("tmux-socket"), help: "The private tmux socket name.") var tmuxSocket: String?

    final class Report: @unchecked Sendable {
        var stages: [(String, Bool, Double, String)] = []
        var failed = false
    }

    func run() async throws {
        // A server that dies mid-run must end the stage with its exit status, never the demo with SIGPIPE
        // (exit 141, the passed stages unreported): writes to it then fail with EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
        let report = Report()
        let base = dir ?? (NSTemporaryDirectory() + "codestrator-demo-\(getpid())")
        let repo = base + "/shop-demo"
        let socket = tmuxSocket ?? "codestrator-demo-\(getpid())"
        let exe = ProcessIdentity.executablePath
        let speed = watch ? 1.0 : 0.2

        func stage(_ name: String, _ body: () async throws -> String) async -> Bool {
            let start = Date()
            do {
                let note = try await body()
                report.stages.append((name, true, Date().timeIntervalSince(start), note))
                print("✓ \(name) (\(String(format: "%.1f", Date().timeIntervalSince(start))) s) \(note)")
                return true
            } catch {
                report.stages.append((name, false, Date().timeIntervalSince(start), "\(error)"))
                report.failed = true
                print("✗ \(name): \(error)")
                return false
            }
        }
        func git(_ args: [String], in path: String = repo) throws -> String {
            let r = try runSync(["git", "-C", path] + args)
            guard r.0 == 0 else { throw DemoError("git \(args.joined(separator: " ")) failed: \(r.1)") }
            return r.1.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        guard
            await stage(
                "create the shop-demo repository",
                {
                    try FileManager.default.createDirectory(atPath: repo + "/src", withIntermediateDirectories: true)
                    try "# Shop demo\n".write(toFile: repo + "/README.md", atomically: true, encoding: .utf8)
                    try "def cart():\n    return []\n".write(
                        toFile: repo + "/src/cart.py", atomically: true, encoding: .utf8)
                    _ = try git(["init", "-q", "-b", "main"])
                    _ = try git(["config", "user.name", "Demo"])
                    _ = try git(["config", "user.email", "demo@localhost"])
                    _ = try git(["add", "-A"])
                    _ = try git(["commit", "-q", "-m", "shop: initial project"])
                    return repo
                })
        else { return try finish(report, repo: repo, socket: socket, base: base) }

        let client = StdioMCPClient(
            argv: [exe, "serve", "--repo", repo, "--tmux-socket", socket], stderrPath: base + "/serve.stderr.log",
            callTimeout: 120)
        client.start()
        defer { client.close() }
        var board: DemoDashboard?
        if dashboard {
            let d = DemoDashboard(executable: exe, repo: repo, socket: socket, logPath: base + "/dashboard.stderr.log")
            board = d
            guard let link = try? d.start() else { throw DemoError("the dashboard server did not start") }
            print("  dashboard: \(link)")
            fflush(nil)  // the link must reach a piped stdout now, not when the demo ends
            if isatty(0) != 0 {
                print("  Open the link, then press Enter to start…")
                _ = readLine()
            }
        }
        defer {
            if keep, let board {
                print("  the dashboard server keeps running: kill \(board.pid) to stop it")
            } else {
                board?.stop()
            }
        }
        func call(_ method: String, _ params: JSON = .obj([:])) async throws -> JSON {
            switch await client.call(method: method, params: params) {
            case .ok(let r): return r
            case .error(let e): throw DemoError("\(method): \(e)")
            }
        }

        var sid = 0
        var attach = ""
        var caseIds: [Int] = []
        var featureId = 0
        var workers: [JSON] = []
        _ = await stage("open a session in its own worktree") {
            _ = try await call("workspace.init")
            let opened = try await call(
                "session.open", .obj(["user_request": "Add cart endpoints", "agent_role": "sim", "intent": "new_work"]))
            sid = opened["session_context"]?["session"]?["id"]?.intValue ?? 0
            attach = opened["attach_readonly_command"]?.stringValue ?? ""
            print("  watch read-only: \(attach)")
            return "slug \(opened["worktree_slug"]?.stringValue ?? "?")"
        }
        if watch {
            print("  Press Enter to continue…")
            _ = readLine()
        }
        _ = await stage("plan Shop → Cart → Cart API → 2 cases") {
            let epic = try await call("task.create", .obj(["level": "epic", "title": "Shop", "session_id": sid]))
            let feature = try await call(
                "task.create", .obj(["level": "feature", "title": "Cart", "parent_id": epic["id"]]))
            featureId = feature["id"]?.intValue ?? 0
            let group = try await call(
                "task.create", .obj(["level": "testgroup", "title": "Cart API", "parent_id": feature["id"]]))
            for title in ["add item", "remove item"] {
                let c = try await call(
                    "task.create",
                    .obj([
                        "level": "case", "title": title, "parent_id": group["id"],
                        "steps": ["write test", "implement"],
                    ]))
                caseIds.append(c["id"]?.intValue ?? 0)
            }
            // A teammate's change lands on main meanwhile, so the final merge is a real merge commit.
            try "# Shop demo\n\nTeam notes.\n".write(toFile: repo + "/README.md", atomically: true, encoding: .utf8)
            _ = try git(["commit", "-qam", "docs: team notes"])
            return "cases \(caseIds.map(String.init).joined(separator: ", "))"
        }
        _ = await stage("spawn two sim workers in their own worktrees") {
            for (i, c) in caseIds.enumerated() {
                let scenario = i == 0 ? "worker-slow" : "worker-basic"
                let r = try await call(
                    "thread.child.spawn",
                    .obj([
                        "session_id": sid, "scope_case_ids": [JSON.int(c)],
                        "agent_override": JSON.obj([
                            "sim_scenario": JSON.string(scenario), "sim_speed": JSON.double(speed),
                        ]),
                    ]))
                workers.append(r["thread"] ?? .null)
            }
            return workers.map { "thread \($0["id"]?.intValue ?? 0) → \($0["workdir"]?.stringValue ?? "")" }.joined(
                separator: "; ")
        }
        let w1 = workers.first?["id"]?.intValue ?? 0
        let w2 = workers.last?["id"]?.intValue ?? 0
        _ = await stage("interrupt worker 1, queue a directive for worker 2") {
            try await Task.sleep(nanoseconds: 400_000_000)
            let a = try await call(
                "thread.child.directive",
                .obj(["thread_id": w1, "mode": "interrupt_patch", "directive": "also log the item id"]))
            let b = try await call(
                "thread.child.directive",
                .obj(["thread_id": w2, "mode": "queue", "directive": "also validate quantities"]))
            return "\(a["result"]?.stringValue ?? "?"), \(b["result"]?.stringValue ?? "?")"
        }
        _ = await stage("both workers complete their cases") {
            for w in [w1, w2] {
                for _ in 0..<240 {
                    let r = try await call(
                        "thread.child.wait_status",
                        .obj(["thread_id": w, "target_statuses": ["completed"], "timeout_seconds": 60]))
                    let t = try await call("thread.child.status", .obj(["thread_id": w]))
                    if r["matched"]?.boolValue == true, t["queued_directives"]?.intValue == 0 { break }
                    try await Task.sleep(nanoseconds: 500_000_000)
                }
            }
            let list = try await call("thread.child.list", .obj(["session_id": sid]))
            let statuses =
                list["threads"]?.arrayValue?.map { "\($0["id"]?.intValue ?? 0):\($0["status"]?.stringValue ?? "")" }
                ?? []
            guard list["threads"]?.arrayValue?.allSatisfy({ $0["status"]?.stringValue == "completed" }) ?? false else {
                throw DemoError("threads \(statuses)")
            }
            return statuses.joined(separator: " ")
        }
        var mergeCommits: [String] = []
        _ = await stage("merge both children into the session root") {
            for w in workers {
                let r = try await call("worktree.merge_to_parent", .obj(["worktree_id": w["worktree_id"] ?? .null]))
                mergeCommits.append(String((r["merge_commit"]?.stringValue ?? "").prefix(8)))
            }
            return mergeCommits.joined(separator: ", ")
        }
        var verdict = "?"
        var findings: JSON = .array([])
        _ = await stage("queue for main, take the lock, review (\(block ? "reviewer-block" : "reviewer-approve"))") {
            _ = try await call("merge.request", .obj(["feature_task_id": featureId, "session_id": sid]))
            _ = try await call(
                "merge.main.request",
                .obj([
                    "session_id": sid,
                    "agent_override": JSON.obj([
                        "sim_scenario": JSON.string(block ? "reviewer-block" : "reviewer-approve"),
                        "sim_speed": JSON.double(speed),
                    ]),
                ]))
            let lock = try await call("merge.main.acquire_lock", .obj(["session_id": sid]))
            let job = lock["review_dispatch"]?["review_job"]?["id"]?.intValue ?? 0
            for _ in 0..<240 {
                let st = try await call("merge.review.thread_status", .obj(["review_job_id": job]))
                if let v = st["verdict"]?.stringValue {
                    verdict = v
                    findings = st["findings"] ?? .array([])
                    break
                }
                try await Task.sleep(nanoseconds: 250_000_000)
            }
            return "verdict \(verdict)"
        }
        let mainBefore = (try? git(["rev-parse", "main"])) ?? ""
        var mergeCommit = ""
        _ = await stage("release the lock: the real merge into main") {
            let r = try await call("merge.main.release_lock", .obj(["session_id": sid]))
            mergeCommit = r["merge_commit"]?.stringValue ?? ""
            let result = r["result"]?.stringValue ?? "?"
            if block {
                guard result == "blocked", try git(["rev-parse", "main"]) == mainBefore else {
                    throw DemoError("expected main unchanged and the item blocked, got \(result)")
                }
            } else {
                guard result == "merged", try git(["rev-parse", "main"]) == mergeCommit else {
                    throw DemoError("expected a merge on main, got \(result)")
                }
            }
            return "\(result) \(String(mergeCommit.prefix(8)))"
        }
        var mirrorPath = ""
        // With --keep the session stays open, so its viewer tmux session (and the attach command) still work.
        _ = await stage(keep ? "refresh the mirror, keep the session open" : "refresh the mirror, clean up the session")
        {
            mirrorPath = try await call("mirror.refresh")["path"]?.stringValue ?? ""
            if watch && !keep {
                print("  Press Enter to clean up…")
                _ = readLine()
            }
            if !keep {
                _ = try await call("session.cleanup", .obj(["session_id": sid]))
                let wts = try await call("worktree.list", .obj(["session_id": sid, "kind": "task_branch"]))
                for w in wts["worktrees"]?.arrayValue ?? [] {
                    _ = try? await call("worktree.remove", .obj(["worktree_id": w["id"] ?? .null, "force": true]))
                }
            }
            return mirrorPath
        }
        let tree = try? await call("task.get", .obj(["task_id": featureId]))
        print("\nFeature \(tree?["title"]?.stringValue ?? "") — \(tree?["status"]?.stringValue ?? "")")
        for c in caseIds {
            if let t = try? await call("task.get", .obj(["task_id": c])) {
                let marks = (t["steps"]?.arrayValue ?? []).map {
                    ($0["status"]?.stringValue == "done" ? "✓ " : "· ") + ($0["title"]?.stringValue ?? "")
                }
                print(
                    "  case \(c) \(t["title"]?.stringValue ?? "") [\(t["status"]?.stringValue ?? "")]: \(marks.joined(separator: ", "))"
                )
            }
        }
        print("Review: \(verdict)\(findings.arrayValue?.isEmpty == false ? " — \(findings.serialized())" : "")")
        print("Child merges: \(mergeCommits.joined(separator: ", "))")
        print("git log --oneline -5 main:\n" + ((try? git(["log", "--oneline", "-5", "main"])) ?? ""))
        if keep {
            print("Kept: \(repo) (mirror \(mirrorPath)); session \(sid) stays open. Watch: \(attach)")
            let params = "{\"session_id\":\(sid)}"
            print(
                "End it with: "
                    + ShellQuote.join(["codestrator", "call", "session.cleanup", "--repo", repo, "--params", params])
                    + "; then: " + ShellQuote.join(["tmux", "-L", socket, "kill-server"]))
        }
        try finish(report, repo: repo, socket: socket, base: base)
    }

    func finish(_ report: Report, repo: String, socket: String, base: String) throws {
        let total = report.stages.reduce(0) { $0 + $1.2 }
        print(
            String(
                format: "\n%d/%d stages passed in %.1f s", report.stages.filter(\.1).count, report.stages.count, total))
        if !keep {
            _ = try? runSync(["tmux", "-L", socket, "kill-server"])
            try? FileManager.default.removeItem(atPath: base)
        }
        if report.failed { throw ExitCode(1) }
    }
}

struct DemoError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Runs a program to completion (argv, no shell) and returns its exit status and output.
func runSync(_ argv: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = argv
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
