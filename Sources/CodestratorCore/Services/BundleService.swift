import Foundation

/// runtime.bundle.info (docs/methods.md#orch_system--codestrator-runtime-mirror-and-planning): what this server is, the programs it runs, and how it is
/// installed for the agent CLIs. Read-only: it writes nothing and runs only version probes (argv, time
/// bounded, concurrent), so it answers as fast as a normal call.
public struct BundleService: Sendable {
    let env: ServiceEnvironment
    public init(env: ServiceEnvironment) { self.env = env }

    public func info() async throws -> JSON {
        let binary = ProcessIdentity.executablePath
        let probe = env.programs
        async let gitFacts = Toolchain.git(probe)
        async let tmuxFacts = Toolchain.tmux(probe)
        async let providerFacts = Toolchain.providers(probe, binary: binary)
        var warnings: [String] = []
        let installed: InstallationFacts
        if let inspector = env.installation {
            installed = inspector.inspect(repo: env.layout.root)
        } else {
            installed = InstallationFacts(clientConfigs: [], skills: [])
            warnings.append("this process does not inspect client configs and skills (no installer attached)")
        }
        let locate: @Sendable (String) -> String? = { probe.locate($0) }
        let configs: [JSON] = installed.clientConfigs.map { c in
            if let problem = c.problem { warnings.append("\(c.path): \(problem)") }
            return .obj([
                "client": c.client, "scope": c.scope, "path": c.path, "present": c.present,
                "registered": c.registered, "command": c.command, "args": c.args,
                "matches_binary": c.command.map { Self.sameExecutable($0, binary, locate: locate) } ?? false,
            ])
        }
        let skills: [JSON] = installed.skills.map { s in
            .obj([
                "name": s.name, "client": s.client, "scope": s.scope, "path": s.path, "installed": s.installed,
                "version": s.version, "current": s.current,
            ])
        }
        let templates = Self.roleTemplates(installed.skills)
        let (git, tmux, providers) = await (gitFacts, tmuxFacts, providerFacts)
        var out = JSON.obj([
            "feature": "codestrator", "server_version": CodestratorVersion.current, "binary_path": binary,
            "repo_path": env.layout.root, "db_path": env.dbPath, "schema_version": Migrations.schemaVersion,
            "role": env.caller.role.rawValue, "thread_id": env.caller.threadId,
            "git": JSON.obj(["path": git.path, "version": git.version, "ok": git.ok]),
            "tmux": JSON.obj(["path": tmux.path, "version": tmux.version, "ok": tmux.ok, "socket": env.tmuxSocket]),
            "providers": JSON.array(
                providers.map {
                    .obj([
                        "provider": $0.provider, "executable": $0.executable, "found": $0.found, "version": $0.version,
                    ])
                }),
            "client_configs": JSON.array(configs), "skills": JSON.array(skills),
            "skills_root": Self.skillsRoot(templates),
            "role_templates": JSON.object(JSONObject(ProcessRole.allCases.map { ($0.rawValue, templates[$0].json) })),
        ])
        if !warnings.isEmpty { out = out.merging(["warnings": warnings]) }
        return out
    }

    /// The installed `SKILL.md` of each role: the first installed copy in the inspector's order (project
    /// scope before user scope, Codex before Claude Code), the order in which the clients let a project's
    /// skill shadow a user's.
    static func roleTemplates(_ skills: [SkillFacts]) -> [ProcessRole: String] {
        var out: [ProcessRole: String] = [:]
        for s in skills where s.installed {
            guard let text = SkillText.all.first(where: { $0.name == s.name }) else { continue }
            let role = ProcessRole.allCases.first { $0.threadRole == (text.role ?? .sessionRoot) } ?? .root
            if out[role] == nil { out[role] = s.path }
        }
        return out
    }

    /// The folder holding the skill folders: that of the root skill when installed, else of the first
    /// installed role skill; nil when no skill is installed.
    static func skillsRoot(_ templates: [ProcessRole: String]) -> String? {
        guard let file = templates[.root] ?? ProcessRole.allCases.lazy.compactMap({ templates[$0] }).first else {
            return nil
        }
        // <root>/<skill>/SKILL.md
        return ((file as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
    }

    /// Whether a registered `command` starts this `binary`: a bare name is looked up on PATH (as the
    /// client would), then both sides are compared as real files, symlinks resolved, so a registration
    /// through a stable symlink still matches. A relative path with a folder depends on the client's
    /// working directory, which is not known here: it matches only when it is literally the binary.
    public static func sameExecutable(_ command: String, _ binary: String, locate: (String) -> String?) -> Bool {
        let path: String
        if command.hasPrefix("/") {
            path = command
        } else if !command.contains("/"), let found = locate(command) {
            path = found
        } else {
            return command == binary
        }
        return realPath(path) == realPath(binary)
    }

    static func realPath(_ path: String) -> String {
        guard let r = realpath(path, nil) else { return (path as NSString).standardizingPath }
        defer { free(r) }
        return String(cString: r)
    }
}
