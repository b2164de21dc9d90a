import ArgumentParser
import CodestratorAssembly
import CodestratorCore
import CodestratorInstall
import CodestratorRuntime
import Foundation

/// `codestrator doctor [--fix] [--json]` (docs/install.md#doctor): checks the tools, the database, the client
/// registrations and skills, and the orchestration state. Exit 0 when nothing fails (warnings allowed).
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the installation and state; --fix repairs what is safe.")

    @Option(help: "Any directory inside the repository (default: the working directory).") var repo: String?
    @Option(help: "The binary configs should register (default: this executable).") var binary: String?
    @Flag(help: "Apply safe repairs: the exclude line, git worktree prune, re-install outdated skills.") var fix = false
    @Flag(help: "Print one JSON object.") var json = false

    struct Check {
        enum Level: String { case ok, warn, fail }
        var name: String
        var level: Level
        var found: String
        var fix: String?
        var fixed: String?
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let cwd = FileManager.default.currentDirectoryPath
        let bin = absolute(binary ?? Install.executablePath(), cwd)
        var checks: [Check] = []

        // git, tmux and the agent CLIs are probed concurrently, as runtime.bundle.info does.
        let probe = Assembly.makeProgramProbe()
        async let tmuxFacts = Toolchain.tmux(probe)
        async let providerFacts = Toolchain.providers(probe, binary: bin)
        let gitFacts = await Toolchain.git(probe)
        let git = Assembly.makeGitClient()
        var root: String?
        if gitFacts.path != nil {
            let v = gitFacts.version ?? "of unknown version"
            checks.append(
                Check(
                    name: "git", level: gitFacts.ok ? .ok : .fail, found: "git \(v) at \(gitFacts.path!)",
                    fix: gitFacts.ok ? nil : "install git 2.36 or later"))
            root = try? await git.mainWorktree(containing: absolute(repo ?? cwd, cwd))
            if let root {
                let branch = try? await git.currentBranch(worktree: root)
                let head = try? await git.resolveCommit(repo: root, rev: "HEAD")
                checks.append(
                    Check(
                        name: "repository", level: head == nil ? .fail : .ok,
                        found: "\(root) on \(branch ?? "a detached HEAD")" + (head == nil ? ", no commit yet" : ""),
                        fix: head == nil ? "commit something first (git commit --allow-empty -m init)" : nil))
                if let exclude = try? await git.infoExcludePath(repo: root) {
                    let text = (try? String(contentsOfFile: exclude, encoding: .utf8)) ?? ""
                    let listed = text.split(separator: "\n").contains {
                        $0.trimmingCharacters(in: .whitespaces) == "/.codestrator/"
                    }
                    var c = Check(
                        name: "exclude", level: listed ? .ok : .warn,
                        found: listed ? "/.codestrator/ is in \(exclude)" : "/.codestrator/ is not in \(exclude)",
                        fix: listed ? nil : "codestrator doctor --fix (adds the line)")
                    if !listed && fix, (try? RepositoryLayout.ensureExcluded(excludePath: exclude)) != nil {
                        c.fixed = "added /.codestrator/ to \(exclude)"
                        c.level = .ok
                    }
                    checks.append(c)
                }
            } else {
                checks.append(
                    Check(
                        name: "repository", level: .warn,
                        found: "\(absolute(repo ?? cwd, cwd)) is not inside a git repository",
                        fix: "run doctor inside the repository to orchestrate (or git init)"))
            }
        } else {
            checks.append(
                Check(name: "git", level: .fail, found: "git not found on PATH", fix: "install git 2.36 or later"))
        }

        // First in the list, once the repository (and so the project-scope configs) is known.
        checks.insert(binaryCheck(bin, root: root, env: env), at: 0)
        checks.append(await tmuxCheck(await tmuxFacts))
        checks.append(Self.localeCheck(env))
        if let root { checks += await databaseChecks(root: root, dbOverride: env["CODESTRATOR_DB"]) }
        checks += clientChecks(root: root, binary: bin, env: env)
        for (provider, program) in Toolchain.providerPrograms {
            guard let p = await providerFacts.first(where: { $0.provider == provider }), p.found == true else {
                checks.append(
                    Check(
                        name: "provider \(program)", level: .warn, found: "\(program) not found on PATH",
                        fix: "install it to run \(provider) children"))
                continue
            }
            checks.append(
                Check(
                    name: "provider \(program)", level: .ok,
                    found: "\(program) \(p.version ?? "of unknown version") at \(p.executable ?? program)"
                        + (provider == "codex" ? "; children run in worktrees of a repository Codex must trust" : "")))
            checks.append(versionCheck(provider: provider, program: program, version: p.version))
        }
        if let root { checks += realClientChecks(root: root, env: env) }
        if let root {
            let prune = try? await ProcessRunner.run(
                ["git", "-C", root, "worktree", "prune", "--dry-run", "-v"], timeout: 10)
            let stale = (prune?.out ?? "").split(separator: "\n").filter { !$0.isEmpty }
            var c = Check(
                name: "worktrees", level: stale.isEmpty ? .ok : .warn,
                found: stale.isEmpty ? "no stale worktree records" : "\(stale.count) stale worktree record(s)",
                fix: stale.isEmpty ? nil : "codestrator doctor --fix (git worktree prune)")
            if !stale.isEmpty && fix,
                (try? await WorktreeLock.run(repo: root) {
                    try await ProcessRunner.run(["git", "-C", root, "worktree", "prune"], timeout: 20)
                })?.ok == true
            {
                c.fixed = "git worktree prune"
                c.level = .ok
            }
            checks.append(c)
        }

        if json {
            let list: [JSON] = checks.map { c in
                .object(
                    JSONObject([
                        ("check", .string(c.name)), ("level", .string(c.level.rawValue)), ("found", .string(c.found)),
                        ("fix", c.fix.map(JSON.string) ?? .null), ("fixed", c.fixed.map(JSON.string) ?? .null),
                    ]))
            }
            let ok = !checks.contains { $0.level == .fail }
            print(JSON.object(JSONObject([("ok", .bool(ok)), ("checks", .array(list))])).serialized())
        } else {
            for c in checks {
                print("\(c.level.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)) \(c.name): \(c.found)")
                if let f = c.fixed {
                    print("     fixed: \(f)")
                } else if let f = c.fix, c.level != .ok {
                    print("     fix: \(f)")
                }
            }
        }
        if checks.contains(where: { $0.level == .fail }) { throw ExitCode(1) }
    }

    /// This binary, and the client configs that register another one or one that is missing (read the
    /// way runtime.bundle.info reads them, with the same notion of "this binary").
    func binaryCheck(_ bin: String, root: String?, env: [String: String]) -> Check {
        let found = "codestrator \(CodestratorVersion.current) at \(bin)"
        let others = InstalledBundleInspector.fromEnvironment(env).inspect(repo: root).clientConfigs.filter {
            $0.registered && !BundleService.sameExecutable($0.command ?? "", bin, locate: { ProcessRunner.which($0) })
        }
        guard let first = others.first else { return Check(name: "binary", level: .ok, found: found) }
        let listed = others.map { c in
            let command = c.command ?? "no command"
            let missing = c.command.map { ProcessRunner.which($0) == nil } ?? true
            return "\(c.path) registers \(command)\(missing ? " (missing)" : " (another binary)")"
        }
        return Check(
            name: "binary", level: .warn, found: found + "; " + listed.joined(separator: "; "),
            fix: "codestrator install --client \(first.client) --scope \(first.scope) (registers this binary)")
    }

    /// The locale the server would run under. tmux is always run with `-u`, so pane tracking does not
    /// depend on it; it is reported because agent CLIs often start MCP servers with a reduced
    /// environment, where a bare `C` locale is common.
    static func localeCheck(_ env: [String: String]) -> Check {
        let set = ["LC_ALL", "LC_CTYPE", "LANG"].compactMap { k in env[k].flatMap { $0.isEmpty ? nil : "\(k)=\($0)" } }
        let effective = ["LC_ALL", "LC_CTYPE", "LANG"].lazy.compactMap { env[$0] }.first { !$0.isEmpty } ?? "C"
        let utf8 = effective.lowercased().replacingOccurrences(of: "-", with: "").contains("utf8")
        return Check(
            name: "locale", level: .ok,
            found: (set.isEmpty ? "LANG, LC_ALL and LC_CTYPE unset (C)" : set.joined(separator: ", "))
                + (utf8
                    ? "; UTF-8"
                    : "; not UTF-8: Codestrator runs tmux with -u, so pane tracking does not depend on it"))
    }

    func tmuxCheck(_ facts: Toolchain.Program) async -> Check {
        guard facts.path != nil else {
            return Check(name: "tmux", level: .fail, found: "tmux not found on PATH", fix: "install tmux 3.2 or later")
        }
        let v = facts.version ?? "of unknown version"
        guard facts.ok else {
            return Check(name: "tmux", level: .fail, found: "tmux \(v)", fix: "install tmux 3.2 or later")
        }
        let socket = "codestrator-doctor-\(getpid())"
        let made = try? await ProcessRunner.run(
            ["tmux", "-u", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "doctor"], timeout: 10)
        _ = try? await ProcessRunner.run(["tmux", "-u", "-L", socket, "kill-server"], timeout: 10)
        if made?.ok != true {
            return Check(
                name: "tmux", level: .fail,
                found:
                    "tmux \(v) cannot start a server (\(made?.err.trimmingCharacters(in: .whitespacesAndNewlines) ?? "no result"))",
                fix: "check TMUX_TMPDIR and /tmp permissions")
        }
        let old = !Toolchain.atLeast(v, Toolchain.viewerTmux)
        return Check(
            name: "tmux", level: old ? .warn : .ok,
            found: "tmux \(v); a private server starts and stops"
                + (old ? "; below 3.2 viewers attach without -f ignore-size" : ""),
            fix: old ? "install tmux 3.2 or later" : nil)
    }

    func databaseChecks(root: String, dbOverride: String?) async -> [Check] {
        let path = dbOverride ?? RepositoryLayout(root: root).defaultDatabasePath
        guard FileManager.default.fileExists(atPath: path) else {
            return [Check(name: "database", level: .ok, found: "no database yet at \(path) (created on first use)")]
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
        let store: Store
        do { store = try Assembly.openDatabase(path, for: .doctor) } catch {
            let e = error as? CodestratorError
            return [
                Check(
                    name: "database", level: .fail, found: "\(path) does not open: \(e?.what ?? "\(error)")",
                    fix: e?.expected
                        ?? "a newer codestrator may have migrated it; use that binary, or move the file aside")
            ]
        }
        let facts: (String, String, Int, Int, String?)? = try? await store.read { tx in
            let integrity = try tx.string("PRAGMA integrity_check") ?? "?"
            let mode = try tx.string("PRAGMA journal_mode") ?? "?"
            let stale =
                try tx.int(
                    """
                    SELECT count(*) FROM sessions WHERE status = 'active'
                      AND (julianday('now') - julianday(last_seen_at)) * 86400 > heartbeat_timeout_seconds
                    """) ?? 0
            let open = try tx.int("SELECT count(*) FROM sessions WHERE status IN ('active','awaiting_resume')") ?? 0
            let lapsed = try tx.string(
                "SELECT lease_until FROM merge_main_lock WHERE state = 'locked' AND julianday(lease_until) < julianday('now')"
            )
            return (integrity, mode, stale, open, lapsed)
        }
        guard let (integrity, mode, stale, open, lapsed) = facts else {
            return [
                Check(name: "database", level: .fail, found: "\(path) cannot be read", fix: "check file permissions")
            ]
        }
        var out = [
            Check(
                name: "database", level: integrity == "ok" && mode == "wal" ? .ok : .fail,
                found: "\(path): integrity \(integrity), journal \(mode), schema known, \(size / 1024) KiB",
                fix: integrity == "ok" ? nil : "restore the database from a backup, or move it aside to start fresh")
        ]
        out.append(
            Check(
                name: "sessions", level: stale == 0 ? .ok : .warn,
                found: "\(open) open session(s), \(stale) stale (no heartbeat within its timeout)",
                fix: stale == 0 ? nil : "resume with session.open {intent: \"auto\"} or close with session.close"))
        if let lapsed {
            out.append(
                Check(
                    name: "main merge lock", level: .warn, found: "held with a lease that lapsed at \(lapsed)",
                    fix: "merge.main.release_lock {session_id, force: true} from the root"))
        }
        let logs = RepositoryLayout(root: root).logsDir
        let logBytes = (FileManager.default.enumerator(atPath: logs)?.allObjects as? [String] ?? []).reduce(0) {
            $0 + (((try? FileManager.default.attributesOfItem(atPath: logs + "/" + $1))?[.size] as? Int) ?? 0)
        }
        out.append(
            Check(name: "logs", level: logBytes > 512 << 20 ? .warn : .ok, found: "\(logs): \(logBytes / 1024) KiB"))
        return out
    }

    /// Registrations, hooks and skills of both clients in both scopes; a scope counts as configured when any of
    /// its managed parts is there.
    func clientChecks(root: String?, binary: String, env: [String: String]) -> [Check] {
        var out: [Check] = []
        var configured = false
        let (home, codexHome) = Installer.homes(env)
        for scope in InstallScope.allCases {
            if scope == .project && root == nil { continue }
            for client in InstallClient.allCases {
                let installer = Installer(
                    clients: [client], scope: scope, repo: root, home: home, codexHome: codexHome, binary: binary)
                let statuses = installer.check()
                guard statuses.contains(where: { $0.state != .missing && !($0.kind == .instructions) }) else {
                    continue
                }
                configured = true
                let command = "codestrator install --client \(client.rawValue) --scope \(scope.rawValue)"
                for kind in [Installer.TargetStatus.Kind.server, .hook, .skill] {
                    let group = statuses.filter { $0.kind == kind }
                    if group.isEmpty { continue }
                    let bad = group.filter { $0.state != .current }
                    let label = "\(client.rawValue) \(scope.rawValue) \(kind.rawValue)\(kind == .skill ? "s" : "")"
                    if bad.isEmpty {
                        let where_ =
                            kind == .skill ? "\(group.count) files current" : group.map(\.path).joined(separator: ", ")
                        out.append(
                            Check(
                                name: label, level: .ok, found: where_ + (kind == .skill ? "" : " registers \(binary)"))
                        )
                        continue
                    }
                    let invalid = bad.compactMap { s -> String? in
                        if case .invalid(let why) = s.state { return why }
                        return nil
                    }
                    var c = Check(
                        name: label, level: invalid.isEmpty ? .warn : .fail,
                        found: invalid.first
                            ?? bad.map {
                                "\($0.path) is \($0.state == .missing ? "missing" : "not this binary's version")"
                            }
                            .prefix(3).joined(separator: "; "),
                        fix: command)
                    if kind == .skill && fix && invalid.isEmpty {
                        let r = installer.install(dryRun: false, skillsOnly: true)
                        if r.exitCode == 0 {
                            c.fixed =
                                "re-installed the skills (\(r.files.filter { $0.action != .unchanged }.count) files)"
                            c.level = .ok
                        }
                    }
                    out.append(c)
                }
            }
        }
        if !configured {
            out.append(
                Check(
                    name: "client configs", level: .warn,
                    found: "codestrator is not registered with Codex or Claude Code",
                    fix: "codestrator install"))
        }
        return out
    }
}
