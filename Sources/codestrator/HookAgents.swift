import ArgumentParser
import CodestratorAssembly
import CodestratorCore
import CodestratorMCP
import Foundation
import SimAgent

/// `codestrator hook session-start`: the SessionStart hook (matcher `compact|resume`) of Codex and Claude
/// Code (docs/install.md#compaction-hook). It prints the open session, the current ref, the case in progress with its next
/// unchecked step and the pending inbox, so an agent whose conversation was compacted can continue. It
/// prints nothing without an open session, never creates `.codestrator/`, and always exits 0.
struct HookSessionStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session-start", abstract: "Print the context block after a compaction or resume; always exits 0.")

    @Option(help: "Any directory inside the repository (env CODESTRATOR_REPO; default: the working directory).")
    var repo: String?
    @Option(help: "Database file (env CODESTRATOR_DB).") var db: String?
    @Option(name: .customLong("thread-id"), help: "The thread (env CODESTRATOR_THREAD_ID); default: the root.")
    var threadId: String?
    @Argument(parsing: .allUnrecognized, help: .hidden) var unrecognized: [String] = []

    func run() async {
        // The event's JSON on stdin is read only when stdin is not a terminal, and for at most 0.3 s.
        let outcome = await withDeadline(seconds: 1) { try await context() }
        switch outcome {
        case .none: hookLog("session-start", "gave up after 1 s (the database stayed busy)")
        case .some(.failure(let e)): hookLog("session-start", "\(e)")
        case .some(.success(let text?)): print(text)
        case .some(.success(nil)): break
        }
    }

    func context() async throws -> String? {
        guard let dbPath = HookRepository.databasePath(db: db, repo: repo) else { return nil }
        let env = ProcessInfo.processInfo.environment
        let store = try Assembly.openDatabase(dbPath, for: .hook)
        let thread = (threadId ?? env["CODESTRATOR_THREAD_ID"]).flatMap { Int($0) }
        var current = RootIdentity.current()
        // Both CLIs pass the hook their conversation's `session_id` on standard input: the root's identity
        // even when its MCP servers and hooks run in a shared daemon.
        if let sid = HookInput.sessionId() {
            let key = RootIdentity.clientSessionKey(sid)
            current.keys = [key] + current.keys.filter { $0 != key }
        }
        let identity = current
        // Which session: the thread's; else the one this root's terminal is bound to (RootBinding: its
        // CODESTRATOR_SESSION_ID, its tmux pane or terminal, a working directory inside one session's
        // worktree); else the only open session. Several open sessions and none of those: the candidates.
        let found: Choice? = try await store.read { tx in
            if let thread, let row = try tx.row("SELECT session_id, role FROM threads WHERE id = ?", [thread]) {
                let role = ProcessRole.allCases.first { $0.threadRole.rawValue == row.string("role") } ?? .root
                let status = try tx.string("SELECT status FROM sessions WHERE id = ?", [row.int("session_id")]) ?? ""
                guard status == "active" || status == "awaiting_resume" else { return nil }
                return .session(row.int("session_id"), role)
            }
            if case .session(let sid, _) = try RootBinding.find(tx, repo: nil, identity: identity) {
                return .session(sid, .root)
            }
            let open = try tx.ints(
                "SELECT id FROM sessions WHERE status IN ('active','awaiting_resume') ORDER BY last_seen_at DESC, id DESC"
            )
            if open.count == 1 { return .session(open[0], .root) }
            if open.isEmpty { return nil }
            return .candidates(try Self.candidates(tx, open))
        }
        let sessionId: Int
        let role: ProcessRole
        switch found {
        case .none: return nil
        case .candidates(let lines)?: return Self.renderCandidates(lines)
        case .session(let sid, let r)?:
            sessionId = sid
            role = r
        }
        let root = ((dbPath as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        let caller = Caller(role: role, threadId: role == .root ? nil : thread, sessionId: sessionId)
        let adapters = Assembly.adapters(for: .hook)
        let service = ServiceEnvironment(
            store: store, git: adapters.git, tmux: adapters.tmux, layout: RepositoryLayout(root: root),
            caller: caller, oneShot: true, heartbeats: HeartbeatRegistry(), tmuxSocket: nil, dbPath: dbPath,
            programs: adapters.programs)
        let provider = EnvironmentProvider(
            options: ServerOptions(repo: root, db: dbPath, role: role, oneShot: true), adapters: adapters)
        await provider.adopt(service)
        let d = Dispatcher(provider: provider, role: role)
        let scope: JSONObject = role == .root ? ["session_id": .int(sessionId)] : [:]
        guard case .success(let next) = await d.callMethod("resume.next", params: scope) else { return nil }
        let inbox: JSON? =
            if case .success(let r) = await d.callMethod("inbox.pending", params: scope) { r } else { nil }
        let session = try await store.read { tx in
            try tx.row(
                """
                SELECT s.worktree_slug, w.path, w.branch FROM sessions s
                LEFT JOIN worktrees w ON w.id = s.session_root_worktree_id WHERE s.id = ?
                """, [sessionId])
        }
        return Self.render(
            sessionId: sessionId, role: role, thread: thread, slug: session?.optString("worktree_slug"),
            worktree: session?.optString("path"), branch: session?.optString("branch"), next: next, inbox: inbox)
    }

    enum Choice: Sendable {
        case session(Int, ProcessRole)
        /// One line per open session (several, and nothing tells which one is this root's).
        case candidates([String])
    }

    static func candidates(_ tx: Tx, _ ids: [Int]) throws -> [String] {
        try ids.map { id in
            let row = try tx.row(
                """
                SELECT s.id, s.status, s.worktree_slug, s.user_request, s.last_seen_at, w.path,
                  (SELECT COUNT(*) FROM inbox_messages m WHERE m.receiver_thread_id = s.root_thread_id
                    AND m.status = 'pending') AS pending
                FROM sessions s LEFT JOIN worktrees w ON w.id = s.session_root_worktree_id WHERE s.id = ?
                """, [id])
            guard let row else { return "  - session \(id)" }
            var line = "  - session \(id)"
            if let slug = row.optString("worktree_slug") { line += " (\(slug))" }
            line += ", \(row.string("status"))"
            if let path = row.optString("path") { line += ", worktree \(path)" }
            if let request = row.optString("user_request"), !request.isEmpty {
                let cut = SimHookEvent.cut(request, toBytes: 80).replacingOccurrences(of: "\n", with: " ")
                line += ", request \"\(cut)\""
            }
            line += ", last seen \(row.string("last_seen_at")), pending inbox \(row.int("pending"))"
            return line
        }
    }

    static func renderCandidates(_ lines: [String]) -> String {
        var out = ["# Codestrator: context after compaction or resume"]
        out.append(
            "\(lines.count) sessions are open in this repository and nothing tells which one is yours "
                + "(no CODESTRATOR_SESSION_ID, no session bound to this terminal, the working directory in no "
                + "session's worktree):")
        out.append(contentsOf: lines)
        out.append(
            "Call session.open {intent: \"auto\"} (it resumes the session your server serves or your terminal "
                + "is bound to), or session.list to choose; then work.current_ref and resume.next with that "
                + "session_id.")
        return out.joined(separator: "\n")
    }

    static func render(
        sessionId: Int, role: ProcessRole, thread: Int?, slug: String?, worktree: String?, branch: String?,
        next: JSON, inbox: JSON?
    ) -> String {
        var out = ["# Codestrator: context restored after compaction or resume"]
        var line = "Open session \(sessionId)"
        if let slug { line += " (\(slug))" }
        if role != .root, let thread { line += "; you are thread \(thread) (\(role.rawValue))" }
        out.append(line + ".")
        if let worktree { out.append("Work only in \(worktree)" + (branch.map { " (branch \($0))" } ?? "") + ".") }
        if let ref = next["current_ref"], !ref.isNull {
            var r = "Current ref: \(ref["node_type"]?.stringValue ?? "?") \(ref["node_id"]?.intValue ?? 0)"
            r += " (version \(ref["version"]?.intValue ?? 0))"
            if let a = ref["next_action"]?.stringValue, !a.isEmpty { r += "; next action: \(a)" }
            if let s = ref["summary"]?.stringValue, !s.isEmpty { r += "; summary: \(s)" }
            out.append(r + ".")
        } else {
            out.append("Current ref: none yet.")
        }
        let steps = next["steps"]?.arrayValue ?? []
        if let task = next["task"], !task.isNull {
            let done = steps.filter { $0["status"]?.stringValue != "todo" }.count
            out.append(
                "Case in progress: \(task["id"]?.intValue ?? 0) \"\(task["title"]?.stringValue ?? "")\" "
                    + "(\(task["status"]?.stringValue ?? "?"), \(done)/\(steps.count) steps).")
            for s in steps {
                let mark = s["status"]?.stringValue == "todo" ? "[ ]" : "[x]"
                out.append("  \(mark) \(s["title"]?.stringValue ?? "")")
            }
        } else {
            out.append("Case in progress: none.")
        }
        let messages = inbox?["messages"]?.arrayValue ?? []
        if !messages.isEmpty {
            out.append("Pending inbox (\(messages.count)):")
            for m in messages.prefix(5) {
                let text = SimHookEvent.cut(m["message"]?.stringValue ?? "", toBytes: 200)
                out.append(
                    "  - message \(m["id"]?.intValue ?? 0) from thread \(m["sender_thread_id"]?.intValue ?? 0) "
                        + "(\(m["kind"]?.stringValue ?? "note")): \(text.replacingOccurrences(of: "\n", with: " "))")
            }
        } else {
            out.append("Pending inbox: none.")
        }
        if let step = next["next_step"], !step.isNull {
            out.append(
                "Next unchecked step: \(step["id"]?.intValue ?? 0) \"\(step["title"]?.stringValue ?? "")\". "
                    + "Call work.current_ref, then resume.next, and continue with that step.")
        } else {
            out.append("Call work.current_ref, then resume.next, and continue with the next step in scope.")
        }
        return out.joined(separator: "\n")
    }
}

/// `codestrator hook codex-notify --thread-id N <json>`: Codex's `notify` program, called with a JSON
/// argument at the end of every turn (docs/runtime-guide.md#status-detection).
struct HookCodexNotify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codex-notify", abstract: "Record a Codex turn (agent-turn-complete); always exits 0.")

    @Option(name: .customLong("thread-id"), help: "The thread (env CODESTRATOR_THREAD_ID).") var threadId: String?
    @Option(help: "Any directory inside the repository (env CODESTRATOR_REPO).") var repo: String?
    @Option(help: "Database file (env CODESTRATOR_DB).") var db: String?
    @Argument(parsing: .allUnrecognized, help: "The notification JSON Codex appends.") var payload: [String] = []

    func run() async {
        let outcome = await withDeadline(seconds: 1) { try await record() }
        switch outcome {
        case .none: hookLog("codex-notify", "gave up after 1 s (the database stayed busy); event dropped")
        case .some(.failure(let e)): hookLog("codex-notify", "\(e); event dropped")
        case .some(.success): break
        }
    }

    func record() async throws {
        guard let text = payload.last(where: { $0.hasPrefix("{") }) else {
            throw SimFailure("no notification JSON argument; expected Codex's agent-turn-complete object")
        }
        guard case .object(let o) = try JSON.parse(text) else {
            throw SimFailure("the notification is not a JSON object")
        }
        guard o["type"]?.stringValue == "agent-turn-complete" else { return }
        let message = o["last-assistant-message"]?.stringValue
        try await AgentHookEvent(source: "codex-notify", event: "turn_complete", status: "idle", message: message)
            .record(threadId: threadId, repo: repo, db: db)
    }
}

/// `codestrator hook claude --event E --thread-id N`: the hooks of a Claude Code child's settings file, with
/// the event's JSON on stdin (docs/runtime-guide.md#status-detection).
struct HookClaude: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claude", abstract: "Record a Claude Code hook event (UserPromptSubmit|Stop|Notification).")

    @Option(help: "UserPromptSubmit, Stop or Notification.") var event: String?
    @Option(name: .customLong("thread-id"), help: "The thread (env CODESTRATOR_THREAD_ID).") var threadId: String?
    @Option(help: "Any directory inside the repository (env CODESTRATOR_REPO).") var repo: String?
    @Option(help: "Database file (env CODESTRATOR_DB).") var db: String?
    @Argument(parsing: .allUnrecognized, help: .hidden) var unrecognized: [String] = []

    func run() async {
        let outcome = await withDeadline(seconds: 1) { try await record() }
        switch outcome {
        case .none: hookLog("claude", "gave up after 1 s (the database stayed busy); event dropped")
        case .some(.failure(let e)): hookLog("claude", "\(e); event dropped")
        case .some(.success): break
        }
    }

    func record() async throws {
        let input = readStdin()
        let o = (input.isEmpty ? nil : try? JSON.parse(input))?.objectValue ?? JSONObject()
        let e: AgentHookEvent
        switch event {
        case "UserPromptSubmit":
            e = AgentHookEvent(source: "claude-hook", event: "prompt_submit", status: "processing", message: nil)
        case "Stop":
            let text =
                o["last_assistant_message"]?.stringValue
                ?? o["transcript_path"]?.stringValue.flatMap(Self.lastAssistantText)
            e = AgentHookEvent(source: "claude-hook", event: "stop", status: "idle", message: text)
        case "Notification":
            switch o["notification_type"]?.stringValue {
            case "permission_prompt", "elicitation_dialog":
                e = AgentHookEvent(
                    source: "claude-hook", event: "notification", status: "waiting_user_answer",
                    message: o["message"]?.stringValue)
            case "idle_prompt":
                e = AgentHookEvent(
                    source: "claude-hook", event: "notification", status: "idle", message: o["message"]?.stringValue)
            default: return
            }
        default:
            throw SimFailure(
                "--event \"\(event ?? "")\" is unknown; expected UserPromptSubmit|Stop|Notification")
        }
        try await e.record(threadId: threadId, repo: repo, db: db)
    }

    /// Stdin up to 1 MiB; empty when it is a terminal.
    func readStdin() -> [UInt8] {
        guard isatty(0) == 0 else { return [] }
        let data = FileHandle.standardInput.readData(ofLength: 1 << 20)
        return Array(data)
    }

    /// The text of the last assistant message in a Claude Code transcript (JSON lines), read from its end.
    static func lastAssistantText(_ path: String) -> String? {
        guard let fh = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? fh.close() }
        let size = (try? fh.seekToEnd()) ?? 0
        let window: UInt64 = 512 * 1024
        try? fh.seek(toOffset: size > window ? size - window : 0)
        let data = fh.readDataToEndOfFile()
        for line in data.split(separator: 0x0A).reversed() {
            guard let j = try? JSON.parse(Array(line)), j["type"]?.stringValue == "assistant" else { continue }
            let content = j["message"]?["content"]
            if let s = content?.stringValue { return s }
            let texts = (content?.arrayValue ?? []).compactMap { c -> String? in
                c["type"]?.stringValue == "text" ? c["text"]?.stringValue : nil
            }
            if !texts.isEmpty { return texts.joined(separator: "\n") }
        }
        return nil
    }
}

/// One `thread_events` row reported by an agent CLI's hook (docs/runtime-guide.md#status-detection).
struct AgentHookEvent: Sendable {
    var source: String
    var event: String
    var status: String
    var message: String?

    func record(threadId: String?, repo: String?, db: String?) async throws {
        guard let raw = threadId ?? ProcessInfo.processInfo.environment["CODESTRATOR_THREAD_ID"], let tid = Int(raw)
        else { throw SimFailure("no thread id; expected --thread-id N or CODESTRATOR_THREAD_ID") }
        guard let dbPath = HookRepository.databasePath(db: db, repo: repo) else {
            throw SimFailure("no Codestrator database here; expected a repository where Codestrator runs")
        }
        let store = try Assembly.openDatabase(dbPath, for: .hook)
        let recorded = try await ThreadEvents.recordIfThreadExists(
            in: store, threadId: tid, source: source, event: event, providerStatus: status, message: message)
        guard recorded else {
            throw SimFailure("thread \(tid) does not exist; expected a thread id of this repository")
        }
        await HookEnvironment.settle(threadId: tid, store: store, dbPath: dbPath)
    }
}

func hookLog(_ name: String, _ text: String) {
    FileHandle.standardError.write(Data("codestrator hook \(name): \(text)\n".utf8))
}

/// The hook's standard input: the client's event JSON (Codex and Claude Code both send `session_id`).
enum HookInput {
    /// `session_id` of the event on stdin, read only from a pipe or file and for at most 0.3 s.
    static func sessionId() -> String? {
        guard isatty(0) == 0 else { return nil }
        var data = [UInt8]()
        let deadline = ContinuousClock.now + .seconds(0.3)
        var buf = [UInt8](repeating: 0, count: 65536)
        let flags = fcntl(0, F_GETFL)
        _ = fcntl(0, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(0, F_SETFL, flags) }
        while ContinuousClock.now < deadline, data.count < 1 << 20 {
            let n = read(0, &buf, buf.count)
            if n > 0 {
                data.append(contentsOf: buf[0..<n])
                continue
            }
            if n == 0 { break }
            if errno != EAGAIN && errno != EINTR { break }
            var p = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, 20)
        }
        guard let json = try? JSON.parse(data), let id = json["session_id"]?.stringValue, !id.isEmpty,
            id.count <= 200
        else { return nil }
        return id
    }
}
