import Foundation

/// The text of `codestrator status`: per open session its plan with step progress, its children with how
/// long each has been in its status (a child waiting for an answer loudly, with its question), the root's
/// pending inbox; then the main merge queue, the lock holder and the last review verdict. Read in one
/// transaction; durations in whole minutes, so that `--watch` redraws only when something changes.
public enum StatusView {
    public static let maxCases = 20

    public static func render(_ tx: Tx, sessionId: Int? = nil, compact: Bool = false) throws -> String {
        let now = tx.now
        let sessions: [SessionRecord]
        if let sessionId {
            sessions = try SessionRecord.load(tx, sessionId).map { [$0] } ?? []
        } else {
            sessions = try tx.rows(
                "SELECT * FROM sessions WHERE status IN ('active','awaiting_resume') ORDER BY id"
            ).map(SessionRecord.init)
        }
        var out: [String] = []
        for s in sessions {
            out += try session(tx, s, now: now, compact: compact)
        }
        if out.isEmpty { out.append("codestrator: no open sessions") }
        out += try merge(tx, now: now, compact: compact)
        return out.joined(separator: "\n")
    }

    static func session(_ tx: Tx, _ s: SessionRecord, now: String, compact: Bool) throws -> [String] {
        var out: [String] = []
        var head = "session \(s.id) · \(s.worktreeSlug ?? "-") · \(s.status.rawValue)"
        if s.status == .active && s.isStale(now: now) { head += " (stale)" }
        out.append(head)
        if !compact, let request = s.userRequest, !request.isEmpty { out.append("  request: \(line(request, 100))") }
        // The plan: cases with their steps done.
        let cases = try tx.rows(
            """
            SELECT t.id, t.title, t.status,
              (SELECT COUNT(*) FROM steps st WHERE st.task_id = t.id) AS total,
              (SELECT COUNT(*) FROM steps st WHERE st.task_id = t.id AND st.status IN ('done','skipped')) AS done
            FROM tasks t WHERE t.session_id = ? AND t.level = 'case' ORDER BY t.id
            """, [s.id])
        if !cases.isEmpty {
            let finished = cases.filter { $0.string("status") == "done" }.count
            out.append("  plan: \(finished)/\(cases.count) cases done")
            if !compact {
                for c in cases.prefix(maxCases) {
                    let mark = c.string("status") == "done" ? "[x]" : "[ ]"
                    out.append(
                        "    \(mark) case \(c.int("id")) \(line(c.string("title"), 60)) "
                            + "\(c.int("done"))/\(c.int("total")) · \(c.string("status"))")
                }
                if cases.count > maxCases { out.append("    … \(cases.count - maxCases) more cases") }
            }
        }
        // Children.
        let threads = try tx.rows(
            """
            SELECT id, role, status, status_changed_at, title, last_response FROM threads
            WHERE session_id = ? AND role <> 'session-root' ORDER BY id
            """, [s.id])
        if threads.isEmpty {
            out.append("  children: none yet")
        } else {
            out.append("  children:")
            for t in threads {
                let status = t.string("status")
                let since = duration(from: t.string("status_changed_at"), to: now)
                let needs = status == "waiting_user_answer"
                var l = "    #\(t.int("id")) \(t.string("role")) · "
                l += needs ? "‼ NEEDS INPUT for \(since)" : "\(status) for \(since)"
                if let title = t.optString("title"), !title.isEmpty { l += " · \(line(title, 50))" }
                out.append(l)
                if needs {
                    let q =
                        t.optString("last_response").map { line($0, compact ? 70 : 160) } ?? "(no question on screen)"
                    out.append("        question: \(q)")
                }
            }
        }
        // The root's inbox.
        let pending = try tx.rows(
            """
            SELECT id, sender_thread_id, kind, message FROM inbox_messages
            WHERE receiver_thread_id = ? AND status = 'pending' ORDER BY id
            """, [s.rootThreadId ?? 0])
        if pending.isEmpty {
            out.append("  inbox: none pending")
        } else {
            let questions = pending.filter { $0.string("kind") == "question" }
            out.append(
                "  inbox: \(pending.count) pending"
                    + (questions.isEmpty
                        ? "" : " (\(questions.count) question\(questions.count == 1 ? "" : "s"))"))
            for q in questions.prefix(compact ? 1 : 5) {
                out.append("    ‼ question from #\(q.int("sender_thread_id")): \(line(q.string("message"), 120))")
            }
        }
        return out
    }

    static func merge(_ tx: Tx, now: String, compact: Bool) throws -> [String] {
        var out: [String] = []
        let items = try tx.rows(
            "SELECT * FROM merge_main_queue WHERE state IN \(QueueItemState.openSQL) ORDER BY id")
        let lock = try MainMergeLock.load(tx)
        let verdict = try tx.row(
            """
            SELECT id, merge_request_id, verdict, completed_at FROM review_jobs WHERE state = 'completed'
            ORDER BY completed_at DESC, id DESC LIMIT 1
            """)
        if items.isEmpty && !lock.isLocked && verdict == nil { return [] }
        out.append("merge queue: " + (items.isEmpty ? "empty" : "\(items.count) open"))
        for (i, item) in items.enumerated() {
            out.append(
                "  \(i + 1). item \(item.int("id")) · session \(item.int("session_id")) · "
                    + "\(item.string("source_branch")) → \(item.string("target_branch")) · \(item.string("state"))")
        }
        if lock.isLocked {
            var l = "main merge lock: held by session \(lock.holderSessionId ?? 0)"
            if let item = lock.queueItemId { l += " (item \(item))" }
            let until = lock.leaseUntil ?? ""
            l += until <= now ? ", lease expired" : ", lease \(duration(from: now, to: until)) left"
            out.append(l)
        } else {
            out.append("main merge lock: free")
        }
        if let v = verdict {
            out.append(
                "last verdict: \(v.string("verdict")) · review job \(v.int("id")) · merge request "
                    + "\(v.int("merge_request_id")) · \(duration(from: v.string("completed_at"), to: now)) ago")
        }
        return out
    }

    /// `<1m`, `7m`, `2h 05m`, `3d 4h`.
    public static func duration(from: String, to: String) -> String {
        guard let a = Timestamp.parse(from), let b = Timestamp.parse(to) else { return "?" }
        let minutes = max(0, Int(b.timeIntervalSince(a))) / 60
        if minutes < 1 { return "<1m" }
        if minutes < 60 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 24 { return "\(hours)h " + (minutes % 60 < 10 ? "0" : "") + "\(minutes % 60)m" }
        return "\(hours / 24)d \(hours % 24)h"
    }

    /// One line of at most `max` characters.
    static func line(_ text: String, _ max: Int) -> String {
        let flat = text.split(whereSeparator: { $0.isNewline }).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        return flat.count > max ? String(flat.prefix(max - 1)) + "…" : flat
    }
}
