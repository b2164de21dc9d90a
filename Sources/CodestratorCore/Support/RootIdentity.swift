import Foundation
import Synchronization

/// What identifies the terminal a root agent runs in, independent of the process tree (an agent CLI
/// may run its MCP servers under a shared daemon, so the parent process says nothing about the root).
/// Both the MCP server and `codestrator hook session-start` derive it from their environment and
/// their controlling terminal; `session.open` records it (table `root_bindings`), and a root call
/// without `session_id` finds its session through it after a server restart.
public struct RootIdentity: Sendable, Equatable {
    /// `CODESTRATOR_SESSION_ID`, when a root was started with it: that session, without looking further.
    public var explicitSessionId: Int?
    /// Terminal keys, most specific first: `tmux:<socket>:<pane>`, other terminals' pane ids, `tty:<host>:<device>`.
    public var keys: [String]
    /// The working directory: a directory inside a session's worktree names that session.
    public var cwd: String?

    public init(explicitSessionId: Int? = nil, keys: [String] = [], cwd: String? = nil) {
        self.explicitSessionId = explicitSessionId
        self.keys = keys
        self.cwd = cwd
    }

    /// Terminal-pane variables of other terminals and multiplexers, each naming one pane or window.
    static let paneVariables = [
        "ZELLIJ_PANE_ID", "WEZTERM_PANE", "KITTY_WINDOW_ID", "ITERM_SESSION_ID", "TERM_SESSION_ID", "WT_SESSION",
    ]

    /// The identity of this process: its environment, its controlling terminal and its working directory.
    public static func current() -> RootIdentity {
        let tty = TerminalFingerprint.controllingTTY(pid: Int(getpid()))
        return derive(
            environment: ProcessInfo.processInfo.environment, tty: tty, host: ProcessIdentity.hostName,
            cwd: FileManager.default.currentDirectoryPath)
    }

    /// The key of an agent CLI's own conversation: the most specific identity a root has, and the only one
    /// that holds when the CLI runs its MCP servers in a shared daemon (Codex's app-server) whose environment
    /// and terminal belong to whichever root started it. Claude Code gives its MCP servers and hooks
    /// `CLAUDE_CODE_SESSION_ID`; Codex sends its thread's `session_id` with every tool call
    /// (`_meta.x-codex-turn-metadata`) and on every hook's standard input.
    public static func clientSessionKey(_ id: String) -> String { "client-session:\(id)" }

    public static func derive(environment env: [String: String], tty: String?, host: String, cwd: String?)
        -> RootIdentity
    {
        var keys: [String] = []
        if let s = env["CLAUDE_CODE_SESSION_ID"], !s.isEmpty { keys.append(clientSessionKey(s)) }
        if let pane = env["TMUX_PANE"], !pane.isEmpty, let tmux = env["TMUX"], !tmux.isEmpty {
            let socket = tmux.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            keys.append("tmux:\(host):\(socket):\(pane)")
        }
        for name in paneVariables {
            if let v = env[name], !v.isEmpty {
                var key = "\(name):\(host):\(v)"
                if name == "ZELLIJ_PANE_ID" { key += ":\(env["ZELLIJ_SESSION_NAME"] ?? "")" }
                keys.append(key)
            }
        }
        if let tty { keys.append("tty:\(host):\(tty)") }
        let explicit = env["CODESTRATOR_SESSION_ID"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return RootIdentity(explicitSessionId: explicit, keys: keys, cwd: cwd)
    }
}

/// Client-conversation keys this process learnt from its client's requests (Codex names its thread in every
/// `tools/call`). Process-wide: one stdio server serves one client.
public final class ClientSessions: Sendable {
    public static let shared = ClientSessions()
    let box = Mutex<[String]>([])

    /// Records a key (newest first).
    public func note(_ key: String) {
        box.withLock { keys in
            if keys.first == key { return }
            keys.removeAll { $0 == key }
            keys.insert(key, at: 0)
        }
    }

    public var keys: [String] { box.withLock { $0 } }
}

/// Which open session a root identity names (table `root_bindings`).
public enum RootBinding {
    public enum Found: Sendable, Equatable {
        case session(Int, via: String)
        /// Several open sessions match and nothing tells them apart.
        case ambiguous([Int])
        case none
    }

    /// Binds `sessionId` to the identity's keys; the session keeps only the keys of the root that
    /// opened or resumed it last. Other sessions' bindings stay: two roots sharing a key (a daemon's
    /// stale environment) then make that key ambiguous instead of wrong.
    public static func bind(_ tx: Tx, sessionId: Int, identity: RootIdentity) throws {
        try tx.execute("DELETE FROM root_bindings WHERE session_id = ?", [sessionId])
        for key in identity.keys {
            try tx.execute(
                "INSERT OR REPLACE INTO root_bindings (key, session_id, bound_at) VALUES (?, ?, ?)",
                [key, sessionId, tx.now])
        }
    }

    /// The active session of `repo` this identity names: `CODESTRATOR_SESSION_ID`, else the first key
    /// bound to exactly one active session, else the one session whose worktree holds `cwd`.
    public static func find(_ tx: Tx, repo: String?, identity: RootIdentity) throws -> Found {
        // `repo` nil: any repository of this database (the hook, which knows only the database).
        let repoFilter = repo == nil ? "" : " AND s.repo_path = ?"
        let repoArg: [any SQLArgument] = repo.map { [$0] } ?? []
        if let sid = identity.explicitSessionId,
            try tx.int("SELECT id FROM sessions s WHERE s.id = ? AND s.status = 'active'" + repoFilter, [sid] + repoArg)
                != nil
        {
            return .session(sid, via: "CODESTRATOR_SESSION_ID")
        }
        var ambiguous: [Int] = []
        for key in identity.keys {
            let ids = try tx.ints(
                """
                SELECT b.session_id FROM root_bindings b JOIN sessions s ON s.id = b.session_id
                WHERE b.key = ? AND s.status = 'active'\(repoFilter) ORDER BY b.session_id
                """, [key] + repoArg)
            if ids.count == 1 { return .session(ids[0], via: key) }
            for id in ids where !ambiguous.contains(id) { ambiguous.append(id) }
        }
        if let cwd = identity.cwd {
            let rows = try tx.rows(
                """
                SELECT s.id, w.path FROM sessions s JOIN worktrees w ON w.id = s.session_root_worktree_id
                WHERE s.status = 'active' AND w.kind = 'session_root'\(repoFilter)
                """, repoArg)
            let inside = rows.filter { r in
                let p = r.string("path")
                return !p.isEmpty && (cwd == p || cwd.hasPrefix(p + "/"))
            }
            if inside.count == 1 { return .session(inside[0].int("id"), via: "cwd") }
        }
        return ambiguous.isEmpty ? .none : .ambiguous(ambiguous.sorted())
    }
}
