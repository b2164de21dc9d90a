import CodestratorCore
import Foundation

public enum InstallClient: String, CaseIterable, Sendable {
    case codex, claude
}

public enum InstallScope: String, CaseIterable, Sendable {
    case project, user
}

/// What happened to one file (docs/install.md#install-rules, Output).
public enum FileAction: String, Sendable {
    case created, updated, unchanged, removed, restored, kept
}

public struct FileResult: Sendable, Equatable {
    public var path: String
    public var action: FileAction
    public var note: String?
}

/// The outcome of an install or uninstall run.
public struct InstallReport: Sendable {
    public var files: [FileResult] = []
    public var failures: [String] = []
    public var diffs: [String] = []
    public var notes: [String] = []
    public var nextSteps: [String] = []
    public var exitCode: Int32 { failures.isEmpty ? 0 : 1 }

    /// The printed report: each file with its action, then failures, notes and the next steps.
    public func rendered(dryRun: Bool) -> String {
        var out: [String] = []
        if dryRun { out.append("dry run: nothing was written") }
        out += diffs.filter { !$0.isEmpty }
        let width = files.map(\.action.rawValue.count).max() ?? 0
        for f in files {
            let pad = String(repeating: " ", count: width - f.action.rawValue.count)
            out.append("\(f.action.rawValue)\(pad)  \(f.path)" + (f.note.map { "  (\($0))" } ?? ""))
        }
        if failures.isEmpty && !files.isEmpty && files.allSatisfy({ $0.action == .unchanged }) {
            out.append("up to date")
        }
        for f in failures { out.append("error: \(f)") }
        for n in notes { out.append("note: \(n)") }
        if !nextSteps.isEmpty && failures.isEmpty {
            out.append("next steps:")
            out += nextSteps.map { "  - " + $0 }
        }
        return out.joined(separator: "\n")
    }
}

/// One file install manages.
struct InstallTarget {
    var client: InstallClient
    var path: String
    var edit: ManagedEdit
}

/// `codestrator install` (docs/install.md#install-command): registers the server, the SessionStart hook, the skills and the
/// instructions block for Codex and Claude Code, reversibly.
public struct Installer: Sendable {
    public var clients: [InstallClient]
    public var scope: InstallScope
    /// The repository's main worktree (project scope).
    public var repo: String?
    public var home: String
    /// `$CODEX_HOME`, default `~/.codex`.
    public var codexHome: String
    public var binary: String
    public var version: String

    public init(
        clients: [InstallClient], scope: InstallScope, repo: String?, home: String, codexHome: String? = nil,
        binary: String, version: String = CodestratorVersion.current
    ) {
        self.clients = clients
        self.scope = scope
        self.repo = repo
        self.home = home
        self.codexHome = codexHome ?? home + "/.codex"
        self.binary = binary
        self.version = version
    }

    public var manifestPath: String {
        switch scope {
        case .project: return (repo ?? ".") + "/.codestrator/install/manifest.json"
        case .user: return home + "/.config/codestrator/install-manifest.json"
        }
    }

    public var hookCommand: String { Shell.quote(binary) + " hook session-start" }

    var serveArgs: [String] { scope == .project ? ["serve", "--repo", repo ?? "."] : ["serve"] }

    /// The managed `[mcp_servers.codestrator]` block of config.toml. Codex (since 0.153) asks before every call
    /// of a tool annotated destructive and denies it under `-a never` (`codex exec`): installing is the user's
    /// consent, so the block approves Codestrator's tools.
    public var codexTable: String {
        let args = serveArgs.map(Self.tomlString).joined(separator: ", ")
        let env = ["CODESTRATOR_TMUX_SOCKET", "CODESTRATOR_TMUX_SIZE", "CODESTRATOR_DB", "CODESTRATOR_LOG_LEVEL"]
        return """
            \(ManagedEdit.tomlBegin)
            [mcp_servers.codestrator]
            command = \(Self.tomlString(binary))
            args = [\(args)]
            startup_timeout_sec = 20
            tool_timeout_sec = 660
            default_tools_approval_mode = "approve"
            env_vars = [\(env.map(Self.tomlString).joined(separator: ", "))]
            \(ManagedEdit.tomlEnd)
            """
    }

    /// Claude Code asks before each call of a tool its settings do not allow, and `claude -p` cannot ask at
    /// all: installing is the user's consent to Codestrator's tools (all of them, by server prefix).
    public static let claudeAllowedTools = ["mcp__codestrator"]

    /// The Claude Code `.mcp.json` entry.
    public var claudeEntry: JSON {
        .object(
            JSONObject([
                ("type", .string("stdio")), ("command", .string(binary)), ("args", .array(serveArgs.map(JSON.string))),
            ]))
    }

    public static let instructionsBlock = """
        \(ManagedEdit.markdownBegin)
        ## Codestrator
        This repository is set up for Codestrator. To plan work and run it with parallel child agents in their own
        worktrees, use the `codestrator` skill. Children started by Codestrator receive their own role skill.
        \(ManagedEdit.markdownEnd)
        """

    /// Where a client keeps Codestrator's parts in this scope (docs/install.md#what-install-writes).
    public struct ClientLocation: Sendable, Equatable {
        /// The file registering the server: `config.toml`, `.mcp.json`, or — Claude Code, user scope —
        /// Claude Code's own `~/.claude.json`, which install never writes (`claude mcp add` does).
        public var serverConfig: String
        /// The file with the `SessionStart` hook entry.
        public var hookFile: String
        /// The folder holding one folder per skill.
        public var skillsDir: String
    }

    /// The files and folders of `client` in this installer's scope; project scope needs `repo`.
    public func location(_ client: InstallClient) -> ClientLocation {
        let repo = self.repo ?? "."
        switch (client, scope) {
        case (.codex, .project):
            return ClientLocation(
                serverConfig: repo + "/.codex/config.toml", hookFile: repo + "/.codex/hooks.json",
                skillsDir: repo + "/.agents/skills")
        case (.codex, .user):
            return ClientLocation(
                serverConfig: codexHome + "/config.toml", hookFile: codexHome + "/hooks.json",
                skillsDir: home + "/.agents/skills")
        case (.claude, .project):
            return ClientLocation(
                serverConfig: repo + "/.mcp.json", hookFile: repo + "/.claude/settings.json",
                skillsDir: repo + "/.claude/skills")
        case (.claude, .user):
            return ClientLocation(
                serverConfig: home + "/.claude.json", hookFile: home + "/.claude/settings.json",
                skillsDir: home + "/.claude/skills")
        }
    }

    /// HOME and CODEX_HOME as every command resolves them (an empty CODEX_HOME means the default).
    public static func homes(_ environment: [String: String]) -> (home: String, codexHome: String?) {
        (environment["HOME"] ?? NSHomeDirectory(), environment["CODEX_HOME"].flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Every file of the selected clients and scope (docs/install.md#what-install-writes).
    func targets() -> [InstallTarget] {
        var out: [InstallTarget] = []
        for client in clients {
            let loc = location(client)
            switch client {
            case .codex:
                out.append(InstallTarget(client: client, path: loc.serverConfig, edit: .tomlBlock(codexTable)))
                out.append(
                    InstallTarget(
                        client: client, path: loc.hookFile, edit: .sessionStartHook(command: hookCommand, allow: [])))
            case .claude:
                if scope == .project {
                    out.append(
                        InstallTarget(client: client, path: loc.serverConfig, edit: .jsonServer(claudeEntry)))
                }
                out.append(
                    InstallTarget(
                        client: client, path: loc.hookFile,
                        edit: .sessionStartHook(command: hookCommand, allow: Self.claudeAllowedTools)))
            }
            for skill in SkillText.all {
                for (rel, text) in SkillFiles.files(skill, version: version) {
                    out.append(
                        InstallTarget(
                            client: client, path: "\(loc.skillsDir)/\(skill.name)/\(rel)", edit: .wholeFile(text)))
                }
            }
            if scope == .project {
                let file = client == .codex ? "/AGENTS.md" : "/CLAUDE.md"
                out.append(
                    InstallTarget(client: client, path: repo! + file, edit: .markdownBlock(Self.instructionsBlock)))
            }
        }
        return out
    }

    /// A planned change: the file's bytes now and after.
    struct Planned {
        var target: InstallTarget
        var before: Data?
        var after: Data?
        var created: [String]
        var note: String?
    }

    // MARK: install

    /// Installs (or with `dryRun` only diffs) every managed part; `skillsOnly` limits it to the skill files
    /// (`doctor --fix`).
    public func install(dryRun: Bool, skillsOnly: Bool = false) -> InstallReport {
        var report = InstallReport()
        let manifest: Manifest
        do { manifest = try Manifest.load(manifestPath) } catch {
            report.failures.append("\(error)")
            return report
        }
        // Validate and compute everything first: one file that cannot be changed safely stops the run
        // before anything is written.
        var plans: [Planned] = []
        for t in targets() {
            if skillsOnly, case .wholeFile = t.edit {} else if skillsOnly { continue }
            let before = Files.read(t.path)
            let entry = manifest[t.path]
            do {
                let a = try t.edit.apply(
                    to: before, path: t.path, owned: entry != nil, previousMarker: entry?.managed)
                plans.append(Planned(target: t, before: before, after: a.data, created: a.created, note: a.note))
            } catch {
                report.failures.append("\(error)")
            }
        }
        if !report.failures.isEmpty { return report }
        var next = manifest
        for p in plans {
            let after = p.after!
            let changed = p.before != after
            if dryRun, changed {
                report.diffs.append(
                    UnifiedDiff.make(
                        old: p.before.map { String(decoding: $0, as: UTF8.self) },
                        new: String(decoding: after, as: UTF8.self), path: p.target.path))
            }
            var entry =
                next[p.target.path]
                ?? Manifest.Entry(
                    path: p.target.path, client: p.target.client.rawValue, existed: p.before != nil,
                    sha256Before: p.before.map(Digest.sha256Hex), sha256After: "",
                    backup: p.before.map { $0.base64EncodedString() }, managed: nil, created: p.created,
                    createdDirs: Files.missingDirectories(for: p.target.path))
            entry.sha256After = Digest.sha256Hex(after)
            if let marker = p.target.edit.managedMarker, p.note == nil { entry.managed = marker }
            for c in p.created where !entry.created.contains(c) { entry.created.append(c) }
            next[p.target.path] = entry
            if changed && !dryRun {
                do { try Files.writeAtomically(after, to: p.target.path) } catch {
                    report.failures.append("\(error)")
                    next[p.target.path] = manifest[p.target.path]
                    continue
                }
            }
            let action: FileAction = !changed ? .unchanged : (p.before == nil ? .created : .updated)
            report.files.append(FileResult(path: p.target.path, action: action, note: p.note))
        }
        if !dryRun, next != manifest {
            do { try Files.writeAtomically(next.data(), to: manifestPath) } catch {
                report.failures.append("cannot write the install manifest: \(error)")
            }
        }
        report.nextSteps = nextSteps()
        return report
    }

    func nextSteps() -> [String] {
        var steps: [String] = []
        if clients.contains(.codex) {
            steps.append("restart Codex so it loads the codestrator server and skills")
            if scope == .project {
                steps.append(
                    "Codex reads .codex/config.toml only in trusted projects: trust \(repo ?? "the repository") when Codex asks"
                )
            }
            steps.append(
                "Codex asks once to trust the new SessionStart hook (codestrator hook session-start): accept it")
        }
        if clients.contains(.claude) {
            steps.append("restart Claude Code so it loads the codestrator server, hook and skills")
            if scope == .project {
                steps.append("Claude Code asks once to approve the project server codestrator: approve it")
            }
        }
        return steps
    }

    // MARK: check (doctor)

    /// The state of one managed file for `doctor`.
    public struct TargetStatus: Sendable {
        public enum Kind: String, Sendable { case server, hook, skill, instructions }
        public enum State: Sendable, Equatable {
            case current, missing, outdated
            case invalid(String)
        }
        public var client: InstallClient
        public var kind: Kind
        public var path: String
        public var state: State
    }

    /// Whether each managed part is present and equal to what this binary would install.
    public func check() -> [TargetStatus] {
        let manifest = (try? Manifest.load(manifestPath)) ?? Manifest()
        return targets().map { t in
            let kind: TargetStatus.Kind
            switch t.edit {
            case .wholeFile: kind = .skill
            case .tomlBlock, .jsonServer: kind = .server
            case .sessionStartHook: kind = .hook
            case .markdownBlock: kind = .instructions
            }
            let before = Files.read(t.path)
            let entry = manifest[t.path]
            let state: TargetStatus.State
            do {
                let a = try t.edit.apply(to: before, path: t.path, owned: entry != nil, previousMarker: entry?.managed)
                if before == a.data {
                    state = a.note == nil ? .current : .invalid(a.note!)
                } else {
                    state = Self.present(t.edit, before) ? .outdated : .missing
                }
            } catch {
                state = .invalid("\(error)")
            }
            return TargetStatus(client: t.client, kind: kind, path: t.path, state: state)
        }
    }

    /// Whether some version of the managed part is in the file.
    static func present(_ edit: ManagedEdit, _ data: Data?) -> Bool {
        guard let data else { return false }
        let text = String(decoding: data, as: UTF8.self)
        switch edit {
        case .wholeFile: return true
        case .tomlBlock: return text.contains(ManagedEdit.tomlBegin)
        case .markdownBlock: return text.contains(ManagedEdit.markdownBegin)
        case .jsonServer: return (try? JSON.parse(Array(data)))?["mcpServers"]?["codestrator"] != nil
        case .sessionStartHook: return text.contains("hook session-start")
        }
    }

    // MARK: uninstall

    public func uninstall(dryRun: Bool) -> InstallReport {
        var report = InstallReport()
        var manifest: Manifest
        do { manifest = try Manifest.load(manifestPath) } catch {
            report.failures.append("\(error)")
            return report
        }
        let edits = Dictionary(targets().map { ($0.path, $0.edit) }, uniquingKeysWith: { a, _ in a })
        let selected = Set(clients.map(\.rawValue))
        var dirs: [String] = []
        for entry in manifest.entries where selected.contains(entry.client) {
            let current = Files.read(entry.path)
            var result: FileResult
            var newData: Data?? = .none  // .none: leave the file; .some(nil): delete it
            if current == nil {
                result = FileResult(path: entry.path, action: .unchanged, note: "already gone")
                if entry.existed { result.note = "deleted since install; the original was not restored" }
            } else if Digest.sha256Hex(current!) == entry.sha256After {
                if entry.existed, let b = entry.backup.flatMap({ Data(base64Encoded: $0) }) {
                    newData = .some(b)
                    result = FileResult(path: entry.path, action: .restored)
                } else {
                    newData = .some(nil)
                    result = FileResult(path: entry.path, action: .removed)
                }
            } else if let edit = edits[entry.path] {
                if case .wholeFile = edit {
                    result = FileResult(path: entry.path, action: .kept, note: "changed since install; kept")
                } else {
                    do {
                        let stripped = try edit.strip(
                            from: current!, path: entry.path, created: entry.created, marker: entry.managed,
                            existed: entry.existed)
                        if stripped != current { newData = .some(stripped) }
                        result = FileResult(
                            path: entry.path, action: .kept,
                            note: "edited since install: the codestrator part was removed, your edits were kept")
                    } catch {
                        report.failures.append("\(error)")
                        continue
                    }
                }
            } else {
                result = FileResult(path: entry.path, action: .kept, note: "changed since install; kept")
            }
            if dryRun, case .some(let d) = newData {
                report.diffs.append(
                    UnifiedDiff.make(
                        old: current.map { String(decoding: $0, as: UTF8.self) },
                        new: d.map { String(decoding: $0, as: UTF8.self) }, path: entry.path))
            }
            if !dryRun, case .some(let d) = newData {
                do {
                    if let d { try Files.writeAtomically(d, to: entry.path) } else { try Files.remove(entry.path) }
                } catch {
                    report.failures.append("\(error)")
                    continue
                }
            }
            report.files.append(result)
            manifest[entry.path] = nil
            dirs += entry.createdDirs
        }
        if !dryRun {
            // Folders install created, deepest first, when nothing else is in them now.
            for d in Set(dirs).sorted(by: { $0.count > $1.count }) { Files.removeIfEmpty(d) }
            do {
                if manifest.entries.isEmpty {
                    try Files.remove(manifestPath)
                    let dir = (manifestPath as NSString).deletingLastPathComponent
                    if Files.removeIfEmpty(dir), scope == .project {
                        Files.removeIfEmpty((dir as NSString).deletingLastPathComponent)
                    }
                } else {
                    try Files.writeAtomically(manifest.data(), to: manifestPath)
                }
            } catch {
                report.failures.append("\(error)")
            }
        }
        if report.files.contains(where: { $0.action == .kept }) {
            report.notes.append("files you edited since install were kept (listed as kept)")
        }
        if report.files.isEmpty {
            report.notes.append("nothing installed here (no manifest entries at \(manifestPath))")
        }
        return report
    }

    /// A TOML basic string: JSON's string escapes are valid TOML, so the JSON writer renders it.
    static func tomlString(_ s: String) -> String { JSON.string(s).serialized() }
}
