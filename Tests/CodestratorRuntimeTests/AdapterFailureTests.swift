import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorRuntime

/// The CLI adapters classify real tmux and git failures into typed kinds (AdapterFailure), on a private tmux
/// socket and a temporary repository: what services match on instead of the programs' wording.
@Suite struct AdapterFailureTests {
    static func failure(_ body: () async throws -> Void) async -> CodestratorError? {
        do {
            try await body()
            return nil
        } catch let e as CodestratorError {
            return e
        } catch {
            return nil
        }
    }

    @Test func tmuxFailuresAreClassified() async throws {
        let socket = "cs-adapter-\(UUID().uuidString.prefix(8))"
        let tmux = CLITmuxClient()
        defer {
            _ = try? ProcessRunner.runBlocking(
                ["tmux", "-L", socket, "kill-server"], environment: nil, timeout: 10, outputLimit: 4096, stdin: nil)
        }

        // No server yet.
        let noServer = await Self.failure { _ = try await tmux.listPanes(socket: socket, session: "s", window: "w") }
        #expect(noServer?.tmuxFailure == .serverNotRunning, "\(String(describing: noServer))")

        let dir = NSTemporaryDirectory()
        _ = try await tmux.newSession(
            socket: socket, name: "s", window: "w", width: 80, height: 24, cwd: dir, argv: ["sleep", "60"], options: [])
        let noPane = await Self.failure {
            _ = try await tmux.splitWindow(
                socket: socket, target: "%999", horizontal: true, cwd: dir, env: [], argv: ["sleep", "60"])
        }
        #expect(noPane?.tmuxFailure == .paneNotFound, "\(String(describing: noPane))")
        #expect(noPane?.code == .externalFailed)
        let noWindow = await Self.failure { _ = try await tmux.listPanes(socket: socket, session: "s", window: "x") }
        #expect(noWindow?.tmuxFailure == .windowNotFound, "\(String(describing: noWindow))")

        // Split until tmux has no room left.
        var full: CodestratorError?
        for _ in 0..<40 where full == nil {
            let panes = try await tmux.listPanes(socket: socket, session: "s", window: "w")
            let target = try #require(panes.last?.paneId)
            full = await Self.failure {
                _ = try await tmux.splitWindow(
                    socket: socket, target: target, horizontal: false, cwd: dir, env: [], argv: ["sleep", "60"])
            }
        }
        #expect(full?.tmuxFailure == .noSpace, "\(String(describing: full))")
    }

    @Test func gitFailuresAreClassified() async throws {
        let d = NSTemporaryDirectory() + "cs-gitfail-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: d) }
        try FileManager.default.createDirectory(atPath: d + "/plain", withIntermediateDirectories: true)
        for args in [
            ["init", "-q", "-b", "main", d + "/repo"],
            [
                "-C", d + "/repo", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m",
                "i",
            ],
        ] {
            #expect(try await ProcessRunner.run(["git"] + args).ok)
        }
        let git = CLIGitClient()
        let notWorktree = await Self.failure {
            try await git.worktreeRemove(repo: d + "/repo", path: d + "/plain", force: true)
        }
        #expect(notWorktree?.gitFailure == .notAWorktree, "\(String(describing: notWorktree))")
        let notRepo = await Self.failure { try await git.deleteBranch(repo: d + "/plain", branch: "x", force: true) }
        #expect(notRepo?.gitFailure == .notARepository, "\(String(describing: notRepo))")
    }

    @Test func classificationReadsTheWordingOfEachKind() {
        #expect(TmuxFailure.classify(stderr: "can't find pane: %12\n") == .paneNotFound)
        #expect(TmuxFailure.classify(stderr: "can't find session: x") == .sessionNotFound)
        #expect(TmuxFailure.classify(stderr: "no space for new pane") == .noSpace)
        #expect(TmuxFailure.classify(stderr: "server exited unexpectedly") == .serverExited)
        #expect(
            TmuxFailure.classify(stderr: "error connecting to /tmp/tmux-0/x (No such file or directory)")
                == .serverNotRunning)
        #expect(TmuxFailure.classify(stderr: "unknown command: foo") == .other)
        #expect(
            GitFailure.classify(stderr: "fatal: Unable to create '/r/.git/index.lock': File exists.") == .lockContention
        )
        #expect(GitFailure.classify(stderr: "fatal: a branch named 'x' already exists") == .alreadyExists)
        #expect(GitFailure.classify(stderr: "fatal: bad revision") == .other)
    }
}
