import Foundation

/// orch_system mirror: `.codestrator/mirror/STATE.md`, a deterministic Markdown rendering of the
/// state (docs/runtime-guide.md#the-markdown-mirror), and its status (docs/methods.md#orch_system--codestrator-runtime-mirror-and-planning).
public struct MirrorService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    static let defaultRelativePath = ".codestrator/mirror/STATE.md"

    // MARK: mirror.status

    public func status() async throws -> JSON {
        let root = env.layout.root
        return try await env.store.read { tx in try Self.status(tx, root: root) }
    }

    /// The MirrorStatus shape (docs/database.md#object-shapes).
    static func status(_ tx: Tx, root: String) throws -> JSON {
        let m = try tx.row("SELECT * FROM meta WHERE id = 1")
        let db = m?.int("db_version") ?? 0
        let md = m?.int("md_version") ?? 0
        let mdPath = m?.optString("md_path")
        let file = root + "/" + (mdPath ?? defaultRelativePath)
        return .obj([
            "db_version": db, "md_version": md, "md_path": mdPath, "outdated": db != md,
            "exists": FileManager.default.fileExists(atPath: file), "refreshed_at": m?.optString("mirror_refreshed_at"),
            "updated_at": m?.optString("updated_at"),
        ])
    }

    // MARK: mirror.refresh

    /// The target as a repository-relative path inside `.codestrator/mirror/`, ending in `.md`. A
    /// bare file name is taken inside the mirror folder.
    func target(_ given: String?) throws -> String {
        guard let given else { return Self.defaultRelativePath }
        let field = "target_path"
        let rel: String
        if !given.contains("/") {
            rel = ".codestrator/mirror/" + given
        } else {
            rel = try RepoPath.normalize(given, root: env.layout.root, field: field)
        }
        let prefix = ".codestrator/mirror/"
        let name = rel.hasPrefix(prefix) ? String(rel.dropFirst(prefix.count)) : ""
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), name.hasSuffix(".md"), name.count > 3 else {
            throw CodestratorError(
                .invalidParams, "field \"\(field)\" is \(quoted(given))",
                expected: "a file name ending in .md directly inside .codestrator/mirror/", field: field)
        }
        return rel
    }

    /// `mirror.refresh`, also run by the housekeeping loop (with no target: STATE.md).
    public func refresh(targetPath: String? = nil, requesterRole: String? = nil) async throws -> JSON {
        let caller = env.caller
        if let requester = requesterRole, requester != caller.role.rawValue {
            throw CodestratorError(
                .forbidden, "requester_role is \(quoted(requester)) but this process has role \(caller.role.rawValue)",
                expected: "the process's own role \(caller.role.rawValue), or no requester_role",
                field: "requester_role")
        }
        let rel = try target(targetPath)
        let layout = env.layout
        try layout.ensureDirectories()
        let path = layout.root + "/" + rel
        // One write transaction: the rendering is one consistent snapshot, and concurrent refreshes
        // are serialised, so an older rendering never replaces a newer one.
        return try await env.store.write { tx in
            let meta = try tx.row("SELECT * FROM meta WHERE id = 1")
            let dbVersion = meta?.int("db_version") ?? 0
            let outdatedBefore = dbVersion != (meta?.int("md_version") ?? 0)
            let text = try MirrorRenderer.render(tx, repositoryName: layout.name, dbVersion: dbVersion)
            let data = Data(text.utf8)
            let written: Bool
            if FileManager.default.contents(atPath: path) == data {
                written = false
            } else {
                try AtomicFile.write(data, to: path)
                written = true
            }
            let sha = SHA256Digest.hex(data)
            let metaChanged =
                meta?.int("md_version") != dbVersion || meta?.optString("md_path") != rel
                || meta?.optString("md_sha256") != sha
            if written || metaChanged {
                try tx.execute(
                    """
                    UPDATE meta SET md_version = ?, md_path = ?, md_sha256 = ?, mirror_refreshed_at = ?,
                      updated_at = ? WHERE id = 1
                    """, [dbVersion, rel, sha, tx.now, tx.now])
            }
            return .obj([
                "outdated_before_refresh": outdatedBefore, "mirror_status": try Self.status(tx, root: layout.root),
                "path": path, "written": written, "bytes": data.count,
            ])
        }
    }
}

/// Writes a file atomically: a temporary file in the same folder, flushed to disk, renamed over
/// the target, and the folder flushed so the rename itself survives a crash.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let tmp = dir + "/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func fail(_ what: String) -> CodestratorError {
            CodestratorError(
                .externalFailed, "\(what) \(tmp): \(String(cString: strerror(errno)))",
                expected: "a writable .codestrator/mirror/ folder")
        }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("cannot create") }
        var ok = data.withUnsafeBytes { buf -> Bool in
            var offset = 0
            while offset < buf.count {
                let n = Foundation.write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        let error = ok ? nil : fail("cannot write")
        close(fd)
        if let error {
            unlink(tmp)
            throw error
        }
        guard rename(tmp, path) == 0 else {
            let e = fail("cannot rename")
            unlink(tmp)
            throw e
        }
        let dfd = open(dir, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }
}

/// The mirror text (docs/runtime-guide.md#the-markdown-mirror). Deterministic: it contains no wall-clock time, and every list
/// has a fixed order, so the same state always gives the same bytes.
enum MirrorRenderer {
    static func render(_ tx: Tx, repositoryName: String, dbVersion: Int) throws -> String {
        let sessions = try tx.rows(
            "SELECT * FROM sessions WHERE status NOT IN ('closed','superseded') ORDER BY id"
        ).map(SessionRecord.init)
        let ids = sessions.map(\.id)
        var worktrees: [Int: WorktreeRecord] = [:]
        for r in try tx.rows("SELECT * FROM worktrees") {
            let w = WorktreeRecord(r)
            worktrees[w.id] = w
        }
        var out: [String] = [
            "# Codestrator state: \(repositoryName)",
            "Database version \(dbVersion). Generated by mirror.refresh; do not edit.",
            "",
        ]
        out += try sessionsSection(tx, sessions, worktrees: worktrees)
        out += try tasksSection(tx, sessions)
        out += try threadsSection(tx, ids, worktrees: worktrees)
        out += worktreesSection(ids, worktrees: worktrees)
        out += try locksSection(tx, ids)
        out += try mergeQueueSection(tx, ids)
        return out.joined(separator: "\n") + "\n"
    }

    /// `(1,2,3)` for an SQL `IN`; `(NULL)` matches nothing.
    static func inList(_ ids: [Int]) -> String {
        ids.isEmpty ? "(NULL)" : "(" + ids.map(String.init).joined(separator: ",") + ")"
    }

    static func sessionsSection(_ tx: Tx, _ sessions: [SessionRecord], worktrees: [Int: WorktreeRecord]) throws
        -> [String]
    {
        var out = ["## Sessions"] + table(["id", "status", "worktree", "branch", "live threads"])
        for s in sessions {
            let root = worktrees[s.sessionRootWorktreeId ?? 0]
            let live =
                try tx.int(
                    """
                    SELECT COUNT(*) FROM threads WHERE session_id = ?
                      AND status IN ('initializing','running','idle','waiting_user_answer')
                    """, [s.id]) ?? 0
            out.append(
                row([
                    "\(s.id)", s.status.rawValue, s.worktreeSlug ?? (root?.kind == .main ? "main" : "-"),
                    root?.branch ?? "-", "\(live)",
                ]))
        }
        return out
    }

    static func tasksSection(_ tx: Tx, _ sessions: [SessionRecord]) throws -> [String] {
        var out = ["## Tasks"]
        for s in sessions {
            out.append("### Session \(s.id) (\(s.worktreeSlug ?? "main"))")
            out += try taskTree(tx, sessionId: s.id)
        }
        return out
    }

    /// A session's tasks as a nested list: epics with their done/open cases, cases with their steps.
    static func taskTree(_ tx: Tx, sessionId: Int) throws -> [String] {
        var out: [String] = []
        let tasks = try tx.rows("SELECT * FROM tasks WHERE session_id = ? ORDER BY priority DESC, id", [sessionId])
            .map(TaskRecord.init)
        var children: [Int: [TaskRecord]] = [:]
        for t in tasks { children[t.parentId ?? 0, default: []].append(t) }
        func cases(under t: TaskRecord) -> [TaskRecord] {
            let kids = children[t.id] ?? []
            return kids.flatMap { $0.level == .case ? [$0] : cases(under: $0) }
        }
        func emit(_ t: TaskRecord, depth: Int) throws {
            let indent = String(repeating: "  ", count: depth)
            var line = "\(indent)- \(mark(t.status)) \(levelName(t.level)) \(t.id): \(t.title)"
            switch t.level {
            case .epic:
                let open = cases(under: t).filter { $0.status != .cancelled }
                line += " (\(t.status.rawValue), cases \(open.filter { $0.status == .done }.count)/\(open.count))"
            case .case:
                let steps = try StepRecord.all(tx, caseId: t.id)
                var info = "\(t.status.rawValue), steps \(steps.filter { $0.status == .done }.count)/\(steps.count)"
                if let thread = t.assigneeThreadId { info += ", thread \(thread)" }
                line += " (\(info))"
                out.append(line)
                for step in steps {
                    out.append("\(indent)  - \(stepMark(step.status)) \(step.orderNo). \(step.title)")
                }
                return
            default:
                break
            }
            out.append(line)
            for c in children[t.id] ?? [] { try emit(c, depth: depth + 1) }
        }
        for epic in children[0] ?? [] { try emit(epic, depth: 0) }
        return out
    }

    static func threadsSection(_ tx: Tx, _ ids: [Int], worktrees: [Int: WorktreeRecord]) throws -> [String] {
        var out = ["## Threads"] + table(["id", "session", "role", "status", "provider", "worktree", "restarts"])
        for r in try tx.rows("SELECT * FROM threads WHERE session_id IN \(inList(ids)) ORDER BY id") {
            let t = ThreadRecord(r)
            out.append(
                row([
                    "\(t.id)", "\(t.sessionId)", t.role.rawValue, t.status.rawValue, t.providerType ?? "-",
                    t.worktreeId.flatMap { worktrees[$0] }.map(worktreeName) ?? "-", "\(t.restartCount)",
                ]))
        }
        return out
    }

    static func worktreesSection(_ ids: [Int], worktrees: [Int: WorktreeRecord]) -> [String] {
        var out = ["## Worktrees"] + table(["id", "kind", "branch", "status", "merge state"])
        for w in worktrees.values.sorted(by: { $0.id < $1.id })
        where w.status != .removed && (w.kind == .main || ids.contains(w.ownerSessionId ?? 0)) {
            out.append(row(["\(w.id)", w.kind.rawValue, w.branch ?? "-", w.status.rawValue, w.mergeState.rawValue]))
        }
        return out
    }

    static func locksSection(_ tx: Tx, _ ids: [Int]) throws -> [String] {
        var out = ["## Locks"] + table(["id", "scope", "path", "owner"])
        for r in try tx.rows(
            """
            SELECT * FROM locks WHERE state = 'active' AND (session_id IS NULL OR session_id IN \(inList(ids)))
            ORDER BY id
            """)
        {
            out.append(
                row(["\(r.int("id"))", r.string("scope_type"), r.string("scope_path"), r.string("owner_session")]))
        }
        return out
    }

    /// The open queue with positions counted over every session's items, then the main merge lock.
    static func mergeQueueSection(_ tx: Tx, _ ids: [Int]) throws -> [String] {
        var out = ["## Merge queue"] + table(["position", "item", "session", "source → target", "state", "verdict"])
        var position = 0
        for r in try tx.rows(
            """
            SELECT q.*, j.verdict AS verdict FROM merge_main_queue q LEFT JOIN review_jobs j ON j.id = q.review_job_id
            WHERE q.state IN ('queued','reviewing','approved','blocked') ORDER BY q.id
            """)
        {
            let state = try r.queueItemState()
            var pos = "-"
            if state.isOpen {
                position += 1
                pos = "\(position)"
            }
            guard ids.contains(r.int("session_id")) else { continue }
            out.append(
                row([
                    pos, "\(r.int("id"))", "\(r.int("session_id"))",
                    "\(r.string("source_branch")) → \(r.string("target_branch"))", state.rawValue,
                    r.optString("verdict") ?? "-",
                ]))
        }
        out.append("")
        let lock = try MainMergeLock.load(tx)
        if lock.isLocked {
            let item = lock.queueItemId.map(String.init) ?? "-"
            out.append("Main merge lock: held by session \(lock.holderSessionId ?? 0) for item \(item)")
        } else {
            out.append("Main merge lock: free")
        }
        return out
    }

    static func table(_ headers: [String]) -> [String] {
        [row(headers), "|" + String(repeating: "---|", count: headers.count)]
    }

    /// A table row; `|` inside a cell is escaped so it cannot split the cell.
    static func row(_ cells: [String]) -> String {
        "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
    }

    static func worktreeName(_ w: WorktreeRecord) -> String { w.slug ?? (w.kind == .main ? "main" : "\(w.id)") }

    static func levelName(_ l: TaskLevel) -> String {
        switch l {
        case .epic: return "Epic"
        case .feature: return "Feature"
        case .testgroup: return "TestGroup"
        case .case: return "Case"
        case .step: return "Step"
        }
    }

    static func mark(_ s: TaskStatus) -> String {
        switch s {
        case .done: return "[x]"
        case .cancelled: return "[-]"
        default: return "[ ]"
        }
    }

    static func stepMark(_ s: StepStatus) -> String {
        switch s {
        case .done: return "[x]"
        case .failed: return "[!]"
        case .skipped: return "[-]"
        case .todo: return "[ ]"
        }
    }
}
