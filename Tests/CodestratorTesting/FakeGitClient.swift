import CodestratorCore
import Foundation

/// A `GitClient` over an in-memory repository: branches point at made-up commits, `worktreeAdd` creates
/// the worktree's directory (services check it exists) and records it, and every call is logged
/// (`recorder`) and can be made to fail (`recorder.fail`). No git runs.
public final class FakeGitClient: GitClient, @unchecked Sendable {
    public let recorder = CallLog()
    public let repo: String
    var branches: [String: String]
    var checkedOut: [String: String?]
    var dirty: [String: [String]] = [:]
    var mergeOutcomes: [GitMergeOutcome] = []
    var commits = 0

    /// A repository at `repo` (its directory and `.git/info` are created) on branch `main` at one commit.
    public init(repo: String, mainBranch: String = "main") {
        self.repo = repo
        try? FileManager.default.createDirectory(atPath: repo + "/.git/info", withIntermediateDirectories: true)
        let first = FakeGitClient.commitId(0)
        branches = [mainBranch: first]
        checkedOut = [repo: mainBranch]
    }

    static func commitId(_ n: Int) -> String { String(repeating: "0", count: 32) + String(format: "%08x", n) }

    /// The worktrees registered so far (path → branch), the main one included.
    public var worktreePaths: [String: String?] { recorder.locked { checkedOut } }

    public var branchNames: Set<String> { recorder.locked { Set(branches.keys) } }

    /// The files `dirtyFiles(worktree:)` reports for `worktree`.
    public func setDirty(_ worktree: String, files: [String]) { recorder.locked { dirty[worktree] = files } }

    /// The outcomes the next `merge` calls return, in order (then `.merged`).
    public func scriptMerges(_ outcomes: [GitMergeOutcome]) { recorder.locked { mergeOutcomes += outcomes } }

    /// A failure as the CLI adapter reports it, with its kind.
    public static func failure(_ kind: GitFailure, _ what: String = "git failed") -> CodestratorError {
        CodestratorError(.externalFailed, what, expected: "git to succeed", failure: .git(kind))
    }

    // MARK: GitClient

    public func version() async throws -> String {
        try recorder.record("version")
        return "2.40.1"
    }

    public func mainWorktree(containing dir: String) async throws -> String? {
        try recorder.record("mainWorktree", [dir])
        return dir == repo || dir.hasPrefix(repo + "/") || recorder.locked({ checkedOut[dir] != nil }) ? repo : nil
    }

    public func currentBranch(worktree: String) async throws -> String? {
        try recorder.record("currentBranch", [worktree])
        return recorder.locked { checkedOut[worktree] ?? nil }
    }

    public func resolveCommit(repo: String, rev: String) async throws -> String? {
        try recorder.record("resolveCommit", [repo, rev])
        return recorder.locked {
            let name = rev.hasPrefix("refs/heads/") ? String(rev.dropFirst("refs/heads/".count)) : rev
            if name == "HEAD", let b = checkedOut[repo] ?? nil { return branches[b] }
            if let c = branches[name] { return c }
            return branches.values.contains(rev) ? rev : nil
        }
    }

    public func branchExists(repo: String, branch: String) async throws -> Bool {
        try recorder.record("branchExists", [branch])
        return recorder.locked { branches[branch] != nil }
    }

    public func isValidBranchName(_ name: String) async throws -> Bool {
        try recorder.record("isValidBranchName", [name])
        return !name.isEmpty && !name.contains("..") && !name.contains(" ") && !name.hasPrefix("-")
    }

    public func topLevel(of dir: String) async throws -> String? {
        try recorder.record("topLevel", [dir])
        return recorder.locked { checkedOut[dir] != nil ? dir : (dir.hasPrefix(repo) ? repo : nil) }
    }

    public func worktreeAdd(repo: String, branch: String, path: String, baseCommit: String) async throws
        -> WorktreeAddOutcome
    {
        try recorder.record("worktreeAdd", [branch, path])
        let taken = recorder.locked { branches[branch] != nil || checkedOut[path] != nil }
        if taken { return .alreadyExists("fatal: a branch named '\(branch)' already exists") }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        recorder.locked {
            branches[branch] = baseCommit
            checkedOut[path] = branch
        }
        return .created
    }

    public func worktreeRemove(repo: String, path: String, force: Bool) async throws {
        try recorder.record("worktreeRemove", [path])
        let known = recorder.locked { checkedOut.removeValue(forKey: path) != nil }
        guard known else { throw Self.failure(.notAWorktree, "fatal: '\(path)' is not a working tree") }
        try? FileManager.default.removeItem(atPath: path)
    }

    public func deleteBranch(repo: String, branch: String, force: Bool) async throws {
        try recorder.record("deleteBranch", [branch])
        _ = recorder.locked { branches.removeValue(forKey: branch) }
    }

    public func infoExcludePath(repo: String) async throws -> String {
        try recorder.record("infoExcludePath")
        return repo + "/.git/info/exclude"
    }

    // MARK: GitWorktreeOps

    public func dirtyFiles(worktree: String, untracked: Bool) async throws -> [String] {
        try recorder.record("dirtyFiles", [worktree])
        return recorder.locked { dirty[worktree] ?? [] }
    }

    public func operationInProgress(worktree: String) async throws -> Bool {
        try recorder.record("operationInProgress", [worktree])
        return false
    }

    public func isAncestor(repo: String, _ a: String, of b: String) async throws -> Bool {
        try recorder.record("isAncestor", [a, b])
        return a == b
    }

    public func countMissing(repo: String, from a: String, in b: String) async throws -> Int {
        try recorder.record("countMissing", [a, b])
        return a == b ? 0 : 1
    }

    public func commitAll(worktree: String, message: String) async throws -> String {
        try recorder.record("commitAll", [worktree])
        return recorder.locked {
            commits += 1
            let c = Self.commitId(commits)
            if let b = checkedOut[worktree] ?? nil { branches[b] = c }
            dirty[worktree] = []
            return c
        }
    }

    public func merge(worktree: String, commit: String, message: String?, fastForwardOnly: Bool) async throws
        -> GitMergeOutcome
    {
        try recorder.record("merge", [worktree, commit])
        return recorder.locked {
            let outcome = mergeOutcomes.isEmpty ? .merged : mergeOutcomes.removeFirst()
            if outcome == .merged {
                commits += 1
                if let b = checkedOut[worktree] ?? nil { branches[b] = Self.commitId(commits) }
            }
            return outcome
        }
    }

    public func changedFiles(worktree: String, from a: String, to b: String) async throws -> [String] {
        try recorder.record("changedFiles", [a, b])
        return []
    }

    public func worktrees(repo: String) async throws -> [(path: String, branch: String?)] {
        try recorder.record("worktrees")
        return recorder.locked { checkedOut.map { (path: $0.key, branch: $0.value) }.sorted { $0.path < $1.path } }
    }

    public func prune(repo: String) async throws { try recorder.record("prune") }

    // MARK: GitReviewOps

    public func mergeBase(repo: String, _ a: String, _ b: String) async throws -> String? {
        try recorder.record("mergeBase", [a, b])
        return recorder.locked { branches[a] ?? a }
    }

    public func log(repo: String, range: String, max: Int) async throws -> [(String, String, String, String)] {
        try recorder.record("log", [range])
        return []
    }

    public func nameStatus(repo: String, from a: String, to b: String) async throws -> [(String, String, String?)] {
        try recorder.record("nameStatus", [a, b])
        return []
    }

    public func numstat(repo: String, from a: String, to b: String) async throws -> [String: (Int?, Int?)] {
        try recorder.record("numstat", [a, b])
        return [:]
    }

    public func diffStat(repo: String, from a: String, to b: String) async throws -> String {
        try recorder.record("diffStat", [a, b])
        return ""
    }

    public func diff(repo: String, from a: String, to b: String, maxBytes: Int) async throws -> (String, Int, Bool) {
        try recorder.record("diff", [a, b])
        return ("", 0, false)
    }
}
