import CodestratorCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs `git worktree add`, `remove` and `prune` of one repository one at a time across processes.
///
/// git takes no lock of its own for these: with several server processes on one repository, two
/// `worktree add` at once can fail reading the other's half-written `.git/worktrees/<name>` (`fatal:
/// failed to read .git/worktrees/<name>/commondir`), and a `worktree prune` (run at every server start
/// and after every removal) can delete an entry another process is still creating (`could not open
/// '.git/worktrees/<name>/gitdir' for writing`). The in-process `gitWrites` mutex cannot see other
/// processes, so the lock is an `flock` on `<repo>/.codestrator/run/git-worktrees.lock`, polled so that
/// no thread blocks; the kernel releases it when its holder exits or dies.
public enum WorktreeLock {
    /// The lock file of the repository whose main worktree is `repo`.
    public static func path(repo: String) -> String { RepositoryLayout(root: repo).runDir + "/git-worktrees.lock" }

    /// Runs `body` holding the lock; waits up to `timeout` seconds for it, then fails with `busy`.
    /// Without `.codestrator/run/` `body` runs unlocked: a server creates that folder with its state
    /// before it changes any worktree, so no Codestrator process is changing worktrees there.
    public static func run<T>(repo: String, timeout: TimeInterval = 60, _ body: () async throws -> T)
        async throws -> T
    {
        let file = path(repo: repo)
        let fd = open(file, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return try await body() }
        defer { close(fd) }  // closing the descriptor releases the lock
        let deadline = ContinuousClock.now + .seconds(timeout)
        var delay: UInt64 = 1_000_000
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw CodestratorError(
                    .externalFailed, "cannot lock \(file): \(String(cString: strerror(errno)))",
                    expected: "a writable .codestrator/run folder")
            }
            if ContinuousClock.now >= deadline {
                throw CodestratorError(
                    .busy, "another process kept changing git worktrees for \(Int(timeout)) s (lock \(file))",
                    expected: "a retry in a moment")
            }
            try await Task.sleep(nanoseconds: delay)
            delay = min(delay * 2, 20_000_000)
        }
        return try await body()
    }
}
