import CodestratorCore
import CodestratorRuntime
import Foundation

/// The sim's real effects: files and commits in its working directory, the inputs log, and the hook command.
public struct LocalSimSystem: SimSystem {
    /// The working directory (the pane's directory: the child's worktree).
    public let workdir: String
    /// `<repo>/.codestrator/run/sim_<thread>_inputs.jsonl`.
    public let inputsLog: String
    /// The hook command without `--event`: `[<codestrator>, "hook", "sim", "--thread-id", id, "--repo", repo]`;
    /// nil when there is no thread to report for.
    public let hookCommand: [String]?

    public init(workdir: String, inputsLog: String, hookCommand: [String]?) {
        self.workdir = workdir
        self.inputsLog = inputsLog
        self.hookCommand = hookCommand
    }

    /// The absolute path of a relative path that stays inside `workdir`, or a failure saying why not.
    public static func resolve(_ path: String, in workdir: String) throws -> String {
        guard !path.isEmpty else { throw SimFailure("the path is empty; expected a relative path") }
        guard !path.hasPrefix("/") else {
            throw SimFailure("\(path) is absolute; expected a path relative to the working directory")
        }
        var parts: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." {
                guard !parts.isEmpty else {
                    throw SimFailure("\(path) leaves the working directory; expected a path inside it")
                }
                parts.removeLast()
                continue
            }
            parts.append(c)
        }
        guard !parts.isEmpty else { throw SimFailure("\(path) names the working directory; expected a file") }
        if parts.first == ".git" { throw SimFailure("\(path) is inside .git; expected a working-tree file") }
        return workdir + "/" + parts.joined(separator: "/")
    }

    public func write(path: String, content: String, append: Bool) throws {
        let full = try Self.resolve(path, in: workdir)
        let dir = (full as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if append, let fh = FileHandle(forWritingAtPath: full) {
            defer { try? fh.close() }
            fh.seekToEndOfFile()
            fh.write(Data(content.utf8))
        } else {
            guard FileManager.default.createFile(atPath: full, contents: Data(content.utf8)) else {
                throw SimFailure("cannot write \(full)")
            }
        }
    }

    public func commit(message: String) async throws -> String {
        // Only in a worktree of its own: in a worktree directory deleted (and maybe recreated) under the
        // sim, git would climb to the enclosing repository and commit there.
        let top = try await git(["rev-parse", "--show-toplevel"])
        let found = top.out.trimmingCharacters(in: .newlines)
        guard top.ok,
            (found as NSString).resolvingSymlinksInPath == (workdir as NSString).resolvingSymlinksInPath
        else {
            throw SimFailure(
                "\(workdir) is not a git worktree of its own (git: \(top.ok ? found : top.err.trimmingCharacters(in: .whitespacesAndNewlines))); expected the worktree the sim started in"
            )
        }
        let add = try await git(["add", "-A"])
        guard add.ok else {
            throw SimFailure("git add -A failed: \(add.err.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        var r = try await git(["commit", "-q", "-m", message])
        if !r.ok, r.err.contains("Please tell me who you are") || r.err.contains("empty ident") {
            // A repository without an identity (CI, a fresh container): commit as the sim.
            r = try await git([
                "-c", "user.name=codestrator-sim", "-c", "user.email=sim@codestrator.invalid", "commit", "-q", "-m",
                message,
            ])
        }
        guard r.ok else {
            let why = (r.err + r.out).trimmingCharacters(in: .whitespacesAndNewlines)
            throw SimFailure("git commit failed: \(why)")
        }
        let sha = try await git(["rev-parse", "--short", "HEAD"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
        return "\(sha) \(message)"
    }

    func git(_ args: [String]) async throws -> ProcessResult {
        var env = ProcessInfo.processInfo.environment
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["GIT_EDITOR"] = "true"
        return try await ProcessRunner.run(["git", "-C", workdir] + args, environment: env, timeout: 60)
    }

    public func recordInput(_ text: String) {
        let line = JSON.obj(["at": Timestamp.format(Date()), "text": text]).serialized() + "\n"
        let dir = (inputsLog as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // O_APPEND: one write per input, so concurrent readers never see half a line.
        let fd = open(inputsLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            FileHandle.standardError.write(Data("[sim] cannot open \(inputsLog): errno \(errno)\n".utf8))
            return
        }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { Sys.write(fd, $0.baseAddress!, $0.count) }
    }

    public func report(event: String, message: String?) async {
        guard let hookCommand else { return }
        var argv = hookCommand + ["--event", event]
        if let message { argv.append("--message=" + message) }
        // The hook never blocks longer than about a second; a lost event only costs the screen fallback.
        _ = try? await ProcessRunner.run(argv, timeout: 3)
    }

    public func sleep(seconds: Double) async {
        try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
    }
}
