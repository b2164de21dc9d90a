import CodestratorCore
import Foundation

extension CLIGitClient {
    public func dirtyFiles(worktree: String, untracked: Bool) async throws -> [String] {
        let args = [
            "-C", worktree, "-c", "core.quotepath=off", "status", "--porcelain=v1", "-z",
            untracked ? "--untracked-files=all" : "--untracked-files=no",
        ]
        let r = try await run(args, environment: ["GIT_OPTIONAL_LOCKS": "0"])
        guard r.ok else { throw failure(args, r) }
        // Entries are "XY path\0", renames add "orig\0".
        var files: [String] = []
        var skipNext = false
        for field in r.stdout.split(separator: 0) {
            if skipNext {
                skipNext = false
                continue
            }
            let s = String(decoding: field, as: UTF8.self)
            guard s.count > 3 else { continue }
            let code = s.prefix(2)
            files.append(String(s.dropFirst(3)))
            if code.contains("R") || code.contains("C") { skipNext = true }
        }
        return files
    }

    public func operationInProgress(worktree: String) async throws -> Bool {
        for name in ["MERGE_HEAD", "REBASE_HEAD", "CHERRY_PICK_HEAD", "rebase-merge", "rebase-apply"] {
            let r = try await run(["-C", worktree, "rev-parse", "--git-path", name])
            guard r.ok else { continue }
            var p = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
            if !p.hasPrefix("/") { p = worktree + "/" + p }
            if FileManager.default.fileExists(atPath: p) { return true }
        }
        return false
    }

    public func isAncestor(repo: String, _ a: String, of b: String) async throws -> Bool {
        try await run(["-C", repo, "merge-base", "--is-ancestor", a, b]).ok
    }

    public func countMissing(repo: String, from a: String, in b: String) async throws -> Int {
        let args = ["-C", repo, "rev-list", "--count", "\(a)..\(b)", "--"]
        let r = try await run(args)
        guard r.ok, let n = Int(r.out.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw failure(args, r) }
        return n
    }

    /// `-c user.name=… -c user.email=…` when the worktree has no identity configured (docs/runtime-guide.md#running-outside-programs).
    func identityArgs(_ worktree: String) async throws -> [String] {
        let r = try await run(["-C", worktree, "config", "user.email"])
        if r.ok && !r.out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return [] }
        return ["-c", "user.name=Codestrator", "-c", "user.email=codestrator@localhost"]
    }

    public func commitAll(worktree: String, message: String) async throws -> String {
        let add = ["-C", worktree, "add", "-A"]
        let a = try await run(add)
        guard a.ok else { throw failure(add, a) }
        let commit =
            ["-C", worktree] + (try await identityArgs(worktree)) + ["commit", "-q", "--no-verify", "-m", message]
        let c = try await run(commit)
        guard c.ok else { throw failure(commit, c) }
        guard let head = try await resolveCommit(repo: worktree, rev: "HEAD") else {
            throw CodestratorError(.internal, "no HEAD after commit in \(worktree)", expected: "a commit")
        }
        return head
    }

    public func merge(worktree: String, commit: String, message: String?, fastForwardOnly: Bool) async throws
        -> GitMergeOutcome
    {
        let before = try await resolveCommit(repo: worktree, rev: "HEAD")
        var args = ["-C", worktree] + (try await identityArgs(worktree)) + ["merge"]
        if fastForwardOnly {
            args += ["--ff-only", commit]
        } else {
            args += ["--no-ff", "--no-edit", "-m", message ?? "Merge \(commit)", commit]
        }
        let r = try await run(args, timeout: 300)
        if r.ok { return .merged }
        let u = try await run([
            "-C", worktree, "-c", "core.quotepath=off", "diff", "--name-only", "--diff-filter=U", "-z",
        ])
        let conflicts = u.stdout.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if try await operationInProgress(worktree: worktree) {
            _ = try await run(["-C", worktree, "merge", "--abort"])
        }
        let after = try await resolveCommit(repo: worktree, rev: "HEAD")
        let dirty = try await dirtyFiles(worktree: worktree, untracked: false)
        guard after == before, dirty.isEmpty else {
            throw CodestratorError(
                .internal,
                "the aborted merge left \(worktree) changed (HEAD \(before ?? "none") → \(after ?? "none"), dirty: \(dirty.prefix(20).joined(separator: ", ")))",
                expected: "an unchanged worktree after merge --abort (inspect it by hand)")
        }
        if !conflicts.isEmpty { return .conflict(conflicts) }
        let text = (r.err + r.out).trimmingCharacters(in: .whitespacesAndNewlines)
        return .failed(String(text.prefix(500)))
    }

    public func changedFiles(worktree: String, from a: String, to b: String) async throws -> [String] {
        let args = ["-C", worktree, "-c", "core.quotepath=off", "diff", "--name-only", "-z", a, b, "--"]
        let r = try await run(args)
        guard r.ok else { throw failure(args, r) }
        return r.stdout.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    public func worktrees(repo: String) async throws -> [(path: String, branch: String?)] {
        let r = try await run(["-C", repo, "worktree", "list", "--porcelain", "-z"])
        guard r.ok else { return [] }
        var out: [(path: String, branch: String?)] = []
        var path: String?
        var branch: String?
        for field in r.stdout.split(separator: 0, omittingEmptySubsequences: false) {
            let s = String(decoding: field, as: UTF8.self)
            if s.isEmpty {
                if let p = path { out.append((p, branch)) }
                path = nil
                branch = nil
            } else if s.hasPrefix("worktree ") {
                path = String(s.dropFirst(9))
            } else if s.hasPrefix("branch refs/heads/") {
                branch = String(s.dropFirst(18))
            }
        }
        if let p = path { out.append((p, branch)) }
        return out
    }

    public func prune(repo: String) async throws {
        _ = try await WorktreeLock.run(repo: repo) { try await run(["-C", repo, "worktree", "prune"]) }
    }
}
