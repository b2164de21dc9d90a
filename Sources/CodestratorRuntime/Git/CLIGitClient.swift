import CodestratorCore
import Foundation

/// `GitClient` over the git CLI (docs/runtime-guide.md#running-outside-programs, docs/runtime-guide.md#worktrees-and-slugs): argv only, `LC_ALL=C`, no prompts, time limits,
/// and git lock-file contention retried 3 times (100, 200, 400 ms) before `busy`.
public struct CLIGitClient: GitClient {
    public let executable: String
    public init(executable: String = "git") { self.executable = executable }

    static let environment: [String: String] = {
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C"
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["GIT_EDITOR"] = "true"
        env["GIT_MERGE_AUTOEDIT"] = "no"
        return env
    }()

    /// Runs git; returns the result whatever the exit status, except for lock contention and limits.
    @discardableResult
    func run(
        _ args: [String], timeout: TimeInterval = 60, limit: Int = 256 * 1024, environment extra: [String: String] = [:]
    ) async throws -> ProcessResult {
        let argv = [executable] + args
        let environment = extra.isEmpty ? Self.environment : Self.environment.merging(extra) { _, new in new }
        var delay: UInt64 = 100_000_000
        for attempt in 0...3 {
            let r: ProcessResult
            do {
                r = try await ProcessRunner.run(
                    argv, environment: environment, timeout: timeout, outputLimit: limit)
            } catch {
                throw CodestratorError(
                    .unavailable, "git cannot run (\(error))", expected: "git ≥ 2.36 installed and on PATH")
            }
            if r.timedOut {
                throw CodestratorError(
                    .timeout, "\(ShellQuote.join(argv)) took longer than \(Int(timeout)) s",
                    expected: "git to finish in time")
            }
            if r.outputExceeded {
                throw CodestratorError(
                    .externalFailed, "\(ShellQuote.join(argv)) printed more than \(limit) bytes",
                    expected: "smaller output")
            }
            let lockContention = !r.ok && GitFailure.classify(stderr: r.err) == .lockContention
            if !lockContention { return r }
            if attempt == 3 {
                throw CodestratorError(
                    .busy, "git lock held by another process: \(String(r.err.prefix(500)))",
                    expected: "a retry in a moment", failure: .git(.lockContention))
            }
            try await Task.sleep(nanoseconds: delay)
            delay *= 2
        }
        fatalError("unreachable")
    }

    func failure(_ args: [String], _ r: ProcessResult) -> CodestratorError {
        CodestratorError(
            .externalFailed,
            "\(ShellQuote.join([executable] + args)) failed (exit \(r.exitStatus)): \(String(r.err.prefix(500)).trimmingCharacters(in: .whitespacesAndNewlines))",
            expected: "git to succeed", failure: .git(GitFailure.classify(stderr: r.err)))
    }

    public func version() async throws -> String {
        let r = try await run(["--version"])
        let words = r.out.split(separator: " ")
        return words.count >= 3 ? String(words[2]).trimmingCharacters(in: .whitespacesAndNewlines) : r.out
    }

    public func mainWorktree(containing dir: String) async throws -> String? {
        let r = try await run(["-C", dir, "worktree", "list", "--porcelain", "-z"])
        guard r.ok else { return nil }
        // Records are NUL-separated fields; the first is "worktree <path>".
        for field in r.stdout.split(separator: 0) {
            let s = String(decoding: field, as: UTF8.self)
            if s.hasPrefix("worktree ") { return String(s.dropFirst("worktree ".count)) }
            if s == "bare" { return nil }
        }
        return nil
    }

    public func currentBranch(worktree: String) async throws -> String? {
        let r = try await run(["-C", worktree, "symbolic-ref", "--quiet", "--short", "HEAD"])
        guard r.ok else { return nil }
        let b = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        return b.isEmpty ? nil : b
    }

    public func resolveCommit(repo: String, rev: String) async throws -> String? {
        let r = try await run(["-C", repo, "rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"])
        guard r.ok else { return nil }
        let c = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        return c.isEmpty ? nil : c
    }

    public func branchExists(repo: String, branch: String) async throws -> Bool {
        try await run(["-C", repo, "show-ref", "--verify", "--quiet", "refs/heads/" + branch]).ok
    }

    public func isValidBranchName(_ name: String) async throws -> Bool {
        // `--branch` expands `@{-1}` and the like: only a name printed back unchanged is a branch name.
        let r = try await run(["check-ref-format", "--branch", name])
        return r.ok && r.out.trimmingCharacters(in: .newlines) == name
    }

    public func topLevel(of dir: String) async throws -> String? {
        let r = try await run(["-C", dir, "rev-parse", "--show-toplevel"])
        guard r.ok else { return nil }
        let v = r.out.trimmingCharacters(in: .newlines)
        return v.isEmpty ? nil : v
    }

    public func worktreeAdd(repo: String, branch: String, path: String, baseCommit: String) async throws
        -> WorktreeAddOutcome
    {
        let args = ["-C", repo, "worktree", "add", "-b", branch, path, baseCommit]
        let r = try await WorktreeLock.run(repo: repo) { try await run(args) }
        if r.ok { return .created }
        if GitFailure.classify(stderr: r.err) == .alreadyExists {
            return .alreadyExists(r.err.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        throw failure(args, r)
    }

    public func worktreeRemove(repo: String, path: String, force: Bool) async throws {
        let args = ["-C", repo, "worktree", "remove"] + (force ? ["--force"] : []) + [path]
        try await WorktreeLock.run(repo: repo) {
            let r = try await run(args)
            if !r.ok { throw failure(args, r) }
            _ = try await run(["-C", repo, "worktree", "prune"])
        }
    }

    public func deleteBranch(repo: String, branch: String, force: Bool) async throws {
        let args = ["-C", repo, "branch", force ? "-D" : "-d", branch]
        let r = try await run(args)
        if !r.ok { throw failure(args, r) }
    }

    public func infoExcludePath(repo: String) async throws -> String {
        let r = try await run(["-C", repo, "rev-parse", "--git-path", "info/exclude"])
        guard r.ok else { return repo + "/.git/info/exclude" }
        let p = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        return p.hasPrefix("/") ? p : repo + "/" + p
    }
}
