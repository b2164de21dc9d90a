import Foundation

/// How one child is launched and driven: the provider table of docs/runtime-guide.md#providers-and-launch-flags, as data.
public struct LaunchPlan: Sendable {
    public var argv: [String]
    public var env: [(String, String)]
    public var interruptKeys: [String]
    public var exitKeys: [String]
    /// Text typed to exit (`/exit`), sent as a paste followed by Enter; nil for key-only exits.
    public var exitText: String?
}

/// What a spawn needs to build a launch plan.
public struct LaunchContext: Sendable {
    public var provider: String
    public var runnerKind: String
    public var role: ThreadRole
    public var threadId: Int
    public var sessionId: Int
    public var workdir: String
    public var repo: String
    public var db: String?
    public var socket: String?
    public var gitCommonDir: String
    public var codexCommand: String
    public var override: JSON
    public var launchArgv: [String]?
}

public enum Providers {
    public static let all = ["codex", "claude_code", "generic", "sim"]
    public static let runners = ["agents_sdk_codex_mcp", "claude_code", "command", "sim"]

    public static func defaultRunner(_ provider: String) -> String {
        switch provider {
        case "codex": return "agents_sdk_codex_mcp"
        case "claude_code": return "claude_code"
        case "sim": return "sim"
        default: return "command"
        }
    }

    public static func defaultSimScenario(_ role: ThreadRole) -> String {
        switch role {
        case .mergeReviewer: return "reviewer-approve"
        case .planArchitect: return "planner-basic"
        case .docMirrorManager: return "mirror-basic"
        default: return "worker-basic"
        }
    }

    /// The child's own server: `codestrator serve --repo … --role … --thread-id …`.
    static func serverArgs(_ c: LaunchContext) -> [String] {
        var a = [
            "serve", "--repo", c.repo, "--role", c.role.rawValue, "--thread-id", String(c.threadId), "--session-id",
            String(c.sessionId),
        ]
        if let db = c.db { a += ["--db", db] }
        if let s = c.socket { a += ["--tmux-socket", s] }
        return a
    }

    static func jsonLiteral(_ s: String) -> String { JSON.string(s).serialized() }

    public static func plan(_ c: LaunchContext) throws -> LaunchPlan {
        let o = c.override.objectValue ?? JSONObject()
        let env = environment(c, override: o)
        if c.runnerKind == "command" {
            var argv = c.launchArgv ?? []
            if argv.count == 1 { argv = ["env", "--"] + argv }
            guard c.provider == "generic" else {
                return LaunchPlan(argv: argv, env: env, interruptKeys: ["Escape"], exitKeys: [], exitText: "/exit")
            }
            return LaunchPlan(
                argv: argv, env: env,
                interruptKeys: o["interrupt_keys"]?.arrayValue?.compactMap(\.stringValue) ?? ["C-c"],
                exitKeys: o["exit_keys"]?.arrayValue?.compactMap(\.stringValue) ?? ["C-d"], exitText: nil)
        }
        let argv: [String]
        switch c.provider {
        case "sim": argv = simArgv(c, override: o)
        case "codex": argv = codexArgv(c, override: o)
        case "claude_code": argv = try claudeArgv(c, override: o)
        default:
            throw CodestratorError(
                .invalidParams, "provider \(quoted(c.provider)) needs runner_kind command with launch_argv",
                expected: "launch_argv", field: "launch_argv")
        }
        return LaunchPlan(argv: argv, env: env, interruptKeys: ["Escape"], exitKeys: [], exitText: "/exit")
    }

    /// The child's identity for its server and hooks, then the override's `env`.
    static func environment(_ c: LaunchContext, override o: JSONObject) -> [(String, String)] {
        var env: [(String, String)] = [
            ("CODESTRATOR_ROLE", c.role.rawValue), ("CODESTRATOR_THREAD_ID", String(c.threadId)),
            ("CODESTRATOR_SESSION_ID", String(c.sessionId)), ("CODESTRATOR_REPO", c.repo),
        ]
        if let db = c.db { env.append(("CODESTRATOR_DB", db)) }
        if let s = c.socket { env.append(("CODESTRATOR_TMUX_SOCKET", s)) }
        if let e = o["env"]?.objectValue {
            for (k, v) in e.pairs {
                if let s = v.stringValue { env.append((k, s)) }
            }
        }
        return env
    }

    /// The override's `model` and `extra_args`, appended to a real client's argv.
    static func modelAndExtra(_ o: JSONObject) -> [String] {
        (o["model"]?.stringValue.map { ["--model", $0] } ?? [])
            + (o["extra_args"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    static func simArgv(_ c: LaunchContext, override o: JSONObject) -> [String] {
        var argv = [ProcessIdentity.executablePath, "sim-agent"]
        if let script = o["sim_script"]?.stringValue {
            argv += ["--script", script]
        } else {
            argv += ["--scenario", o["sim_scenario"]?.stringValue ?? defaultSimScenario(c.role)]
        }
        argv += ["--repo", c.repo, "--role", c.role.rawValue, "--thread-id", String(c.threadId)]
        // `sim_speed` (not in the spec's list; used by the demo) scales the sim's work time.
        switch o["sim_speed"] {
        case .int(let i)?: argv += ["--speed", String(i)]
        case .double(let d)?: argv += ["--speed", String(d)]
        default: break
        }
        return argv
    }

    static func codexArgv(_ c: LaunchContext, override o: JSONObject) -> [String] {
        let exe = ProcessIdentity.executablePath
        // A reviewer reads and never writes: Codex's read-only sandbox enforces it.
        let sandbox = c.role == .worker ? "workspace-write" : "read-only"
        let serverArgs = JSON.array(serverArgs(c).map(JSON.string)).serialized()
        let notify = JSON.array(
            [exe, "hook", "codex-notify", "--thread-id", String(c.threadId)].map(JSON.string)
        ).serialized()
        // --no-daemon: the child's MCP server runs in the child's own process tree, with the pane's
        // environment, and ends with it (the shared app-server daemon would outlive the pane and hold a
        // stale environment). Children's tools are approved up front: under `-a never` Codex denies every
        // tool annotated destructive, read-only methods of that tool included.
        var argv = [
            c.codexCommand, "--no-alt-screen", "--no-daemon", "--cd", c.workdir, "--sandbox", sandbox,
            "--ask-for-approval", "never",
            "-c", "mcp_servers.codestrator.command=\(jsonLiteral(exe))",
            "-c", "mcp_servers.codestrator.args=\(serverArgs)",
            "-c", "mcp_servers.codestrator.default_tools_approval_mode=\"approve\"",
            "-c", "mcp_servers.codestrator.tool_timeout_sec=660",
            "-c", "mcp_servers.codestrator.startup_timeout_sec=30",
            "-c", "notify=\(notify)",
        ]
        // A writable extra root exists only under workspace-write (read-only refuses `--add-dir` and exits).
        if sandbox == "workspace-write" { argv += ["--add-dir", c.gitCommonDir] }
        return argv + modelAndExtra(o)
    }

    /// Claude Code reads its MCP server and hooks from two private files of `.codestrator/run`.
    static func claudeArgv(_ c: LaunchContext, override o: JSONObject) throws -> [String] {
        let run = c.repo + "/.codestrator/run"
        let mcpFile = "\(run)/thread_\(c.threadId).mcp.json"
        let settingsFile = "\(run)/thread_\(c.threadId).settings.json"
        try writePrivate(mcpFile, claudeMCPConfig(c).serialized())
        try writePrivate(settingsFile, claudeSettings(c).serialized())
        let readOnly = c.role != .worker
        let tools =
            readOnly
            ? [
                "mcp__codestrator", "Read", "Glob", "Grep", "Bash(git diff *)", "Bash(git log *)",
                "Bash(git show *)",
            ]
            : ["mcp__codestrator", "Bash", "Read", "Edit", "Write", "Glob", "Grep"]
        let argv =
            [
                "claude", "--mcp-config", mcpFile, "--strict-mcp-config", "--settings", settingsFile,
                "--permission-mode", readOnly ? "default" : "acceptEdits", "--allowedTools",
            ] + tools + ["--add-dir", c.gitCommonDir]
        return argv + modelAndExtra(o)
    }

    static func claudeMCPConfig(_ c: LaunchContext) -> JSON {
        JSON.obj([
            "mcpServers": JSON.obj([
                "codestrator": JSON.obj([
                    "type": "stdio", "command": ProcessIdentity.executablePath,
                    "args": JSON.array(serverArgs(c).map(JSON.string)),
                ])
            ])
        ])
    }

    /// The hooks that report the child's turns (and the compaction/resume reminder) to `codestrator hook`.
    static func claudeSettings(_ c: LaunchContext) -> JSON {
        let exe = ProcessIdentity.executablePath
        func hook(_ event: String, matcher: String? = nil, _ argv: [String]) -> JSON {
            var entry = JSONObject()
            if let matcher { entry["matcher"] = .string(matcher) }
            entry["hooks"] = [JSON.obj(["type": "command", "command": ShellQuote.join(argv)])]
            return .array([.object(entry)])
        }
        func turn(_ event: String, matcher: String? = nil) -> JSON {
            hook(event, matcher: matcher, [exe, "hook", "claude", "--event", event, "--thread-id", String(c.threadId)])
        }
        return JSON.obj([
            "hooks": JSON.obj([
                "UserPromptSubmit": turn("UserPromptSubmit"), "Stop": turn("Stop"),
                "Notification": turn("Notification", matcher: "permission_prompt|elicitation_dialog|idle_prompt"),
                "SessionStart": hook("SessionStart", matcher: "compact|resume", [exe, "hook", "session-start"]),
            ])
        ])
    }

    static func writePrivate(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CodestratorError(.externalFailed, "cannot write \(path)", expected: "a writable .codestrator/run")
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
