import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorRuntime

@Suite struct GitClientTests {
    @Test func worktreeAddReportsATakenNameInsteadOfFailing() async throws {
        let d = NSTemporaryDirectory() + "cs-git-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: d) }
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        for args in [
            ["init", "-q", "-b", "main", d],
            ["-C", d, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "i"],
        ] {
            let r = try await ProcessRunner.run(["git"] + args)
            #expect(r.ok)
        }
        let git = CLIGitClient()
        #expect(try await git.mainWorktree(containing: d) != nil)
        #expect(try await git.mainWorktree(containing: "/") == nil)
        let head = try #require(try await git.resolveCommit(repo: d, rev: "HEAD"))
        #expect(
            try await git.worktreeAdd(repo: d, branch: "codestrator/x", path: d + "/wt/x", baseCommit: head) == .created
        )
        if case .alreadyExists = try await git.worktreeAdd(
            repo: d, branch: "codestrator/x", path: d + "/wt/y", baseCommit: head)
        {
        } else {
            Issue.record("expected alreadyExists")
        }
        #expect(try await git.resolveCommit(repo: d, rev: "no-such-ref") == nil)
    }

    @Test func aTimeoutKillsTheWholeProcessGroup() async throws {
        let start = Date()
        let r = try await ProcessRunner.run(["sh", "-c", "sleep 30 & sleep 30"], timeout: 0.5)
        #expect(r.timedOut)
        #expect(Date().timeIntervalSince(start) < 5)
    }
}
