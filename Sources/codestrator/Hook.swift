import ArgumentParser
import CodestratorAssembly
import CodestratorCore
import Foundation
import SimAgent

/// `codestrator hook …`: tiny commands agent CLIs run to report their turns (docs/runtime-guide.md#status-detection).
struct Hook: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Record an agent's turn event in thread_events (docs/runtime-guide.md#status-detection); always exits 0.",
        subcommands: [HookSessionStart.self, HookCodexNotify.self, HookClaude.self, HookSim.self]
    )
}

/// `codestrator hook sim --event E [--thread-id N] [--message TEXT]`: the sim agent's reports. It never fails
/// its caller: every problem (bad flags included) is logged to stderr and the exit status is 0, and it gives up
/// after about 1 s (the database is opened with the hook busy timeout, Assembly.StoreUse).
struct HookSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Record a sim agent event (turn_complete|prompt_submit|stop|notification|activity)."
    )

    @Option(help: "turn_complete, prompt_submit, stop, notification or activity.")
    var event: String?

    @Option(name: .customLong("thread-id"), help: "The thread (env CODESTRATOR_THREAD_ID).")
    var threadId: String?

    @Option(help: "The last reply, or the question of a notification (cut to 4 KiB).")
    var message: String?

    @Option(help: "Any directory inside the repository (env CODESTRATOR_REPO; default: the working directory).")
    var repo: String?

    @Option(help: "Database file (env CODESTRATOR_DB; default: <repo>/.codestrator/state.db).")
    var db: String?

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var unrecognized: [String] = []

    func run() async {
        if !unrecognized.isEmpty { log("ignoring arguments \(unrecognized.joined(separator: " "))") }
        let outcome = await withDeadline(seconds: 1) { try await record() }
        switch outcome {
        case .none: log("gave up after 1 s (the database stayed busy); event dropped")
        case .some(.failure(let e)): log("\(e); event dropped")
        case .some(.success): break
        }
    }

    func record() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let event else {
            throw SimFailure("--event is missing; expected turn_complete|prompt_submit|stop|notification|activity")
        }
        guard let raw = threadId ?? env["CODESTRATOR_THREAD_ID"], let tid = Int(raw) else {
            throw SimFailure("no thread id; expected --thread-id N or CODESTRATOR_THREAD_ID")
        }
        let e = try SimHookEvent(threadId: tid, event: event, message: message)
        let cwd = FileManager.default.currentDirectoryPath
        var path = db ?? env["CODESTRATOR_DB"]
        if path == nil {
            let dir = repo ?? env["CODESTRATOR_REPO"] ?? cwd
            let absolute = dir.hasPrefix("/") ? dir : cwd + "/" + dir
            let root = try await Assembly.makeGitClient().mainWorktree(containing: absolute) ?? absolute
            path = RepositoryLayout(root: root).defaultDatabasePath
        }
        guard var dbPath = path else { return }
        if !dbPath.hasPrefix("/") { dbPath = cwd + "/" + dbPath }
        // A hook never creates a database: without one there is no thread to report for.
        guard FileManager.default.fileExists(atPath: dbPath) else {
            throw SimFailure("no database at \(dbPath); expected a repository where Codestrator runs")
        }
        let store = try Assembly.openDatabase(dbPath, for: .hook)
        try await e.record(in: store)
        await HookEnvironment.settle(threadId: tid, store: store, dbPath: dbPath)
    }

    func log(_ text: String) {
        FileHandle.standardError.write(Data("codestrator hook sim: \(text)\n".utf8))
    }
}

/// Runs `body`, but returns nil once `seconds` have passed without waiting for it (a blocked database call
/// cannot be cancelled; the process exits right after).
func withDeadline<T: Sendable>(
    seconds: Double, _ body: @escaping @Sendable () async throws -> T
) async -> Result<T, any Error>? {
    let once = Once()
    return await withCheckedContinuation { (k: CheckedContinuation<Result<T, any Error>?, Never>) in
        Task.detached {
            let r: Result<T, any Error>
            do { r = .success(try await body()) } catch { r = .failure(error) }
            if once.claim() { k.resume(returning: r) }
        }
        Task.detached {
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
            if once.claim() { k.resume(returning: nil) }
        }
    }
}

/// A flag that exactly one caller can claim.
private final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}
