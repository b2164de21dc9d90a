import Foundation
import Testing

@testable import CodestratorCore

/// The provider table as data: what each provider's child is started with.
@Suite struct LaunchPlanTests {
    func context(
        _ provider: String, role: ThreadRole = .worker, runner: String? = nil, override: JSON = .null,
        repo: String = "/r"
    ) -> LaunchContext {
        LaunchContext(
            provider: provider, runnerKind: runner ?? Providers.defaultRunner(provider), role: role, threadId: 7,
            sessionId: 3, workdir: "/w", repo: repo, db: nil, socket: "s",
            gitCommonDir: "/r/.git", codexCommand: "codex", override: override, launchArgv: ["my-agent", "--x"])
    }

    @Test func everyChildKnowsWhoItIs() throws {
        let plan = try Providers.plan(context("sim", override: ["env": ["EXTRA": "1"]]))
        let env = Dictionary(plan.env, uniquingKeysWith: { $1 })
        #expect(env["CODESTRATOR_THREAD_ID"] == "7")
        #expect(env["CODESTRATOR_SESSION_ID"] == "3")
        #expect(env["CODESTRATOR_TMUX_SOCKET"] == "s")
        #expect(env["EXTRA"] == "1")
        #expect(plan.argv.contains("sim-agent"))
        #expect(plan.interruptKeys == ["Escape"] && plan.exitText == "/exit")
    }

    @Test func aCodexReviewerIsReadOnlyAndAWorkerMayWriteTheCommonDir() throws {
        let reviewer = try Providers.plan(context("codex", role: .mergeReviewer, override: ["model": "m"]))
        #expect(reviewer.argv.starts(with: ["codex", "--no-alt-screen", "--no-daemon", "--cd", "/w"]))
        #expect(reviewer.argv.contains("read-only"))
        #expect(!reviewer.argv.contains("--add-dir"))
        #expect(reviewer.argv.suffix(2) == ["--model", "m"])
        let worker = try Providers.plan(context("codex", override: ["extra_args": ["--flag"]]))
        #expect(worker.argv.contains("workspace-write"))
        #expect(worker.argv.suffix(3) == ["--add-dir", "/r/.git", "--flag"])
    }

    @Test func claudeCodeGetsItsServerAndHooksFromPrivateFiles() throws {
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("cs-plan-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: repo + "/.codestrator/run", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: repo) }
        let plan = try Providers.plan(context("claude_code", repo: repo))
        let settingsPath = try #require(plan.argv.firstIndex(of: "--settings").map { plan.argv[$0 + 1] })
        let settings = try JSON.parse(String(contentsOfFile: settingsPath, encoding: .utf8))
        let hooks = try #require(settings["hooks"]?.objectValue)
        func first(_ event: String) -> JSON? { hooks[event]?.arrayValue?.first }
        #expect(Set(hooks.keys) == ["UserPromptSubmit", "Stop", "Notification", "SessionStart"])
        #expect(first("Notification")?["matcher"] == "permission_prompt|elicitation_dialog|idle_prompt")
        #expect(first("SessionStart")?["matcher"] == "compact|resume")
        let stop = try #require(first("Stop")?["hooks"]?.arrayValue?.first?["command"]?.stringValue)
        #expect(stop.hasSuffix("hook claude --event Stop --thread-id 7"))
        #expect(first("Stop")?["matcher"] == nil)
        let attrs = try FileManager.default.attributesOfItem(atPath: settingsPath)
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        #expect(plan.argv.contains("acceptEdits"))
    }

    @Test func aCommandRunnerRunsTheGivenArgv() throws {
        let generic = try Providers.plan(context("generic", runner: "command"))
        #expect(generic.argv == ["my-agent", "--x"])
        #expect(generic.interruptKeys == ["C-c"] && generic.exitKeys == ["C-d"] && generic.exitText == nil)
        #expect(throws: CodestratorError.self) {
            try Providers.plan(context("generic", runner: "agents_sdk_codex_mcp"))
        }
    }
}
