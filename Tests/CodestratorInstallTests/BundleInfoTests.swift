import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorAssembly
@testable import CodestratorCore
@testable import CodestratorInstall
@testable import CodestratorMCP
@testable import CodestratorRuntime

/// A temporary folder with a HOME and a repository folder inside it.
struct BundleSandbox {
    let dir: String
    var home: String { dir + "/home" }
    var repo: String { dir + "/repo" }

    init() throws {
        let made = NSTemporaryDirectory() + "cs-bundle-\(UUID().uuidString)"
        for d in [made + "/home", made + "/repo"] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
        dir = BundleService.realPath(made)
    }

    func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func install(_ scope: InstallScope, binary: String) throws {
        let report = Installer(
            clients: InstallClient.allCases, scope: scope, repo: repo, home: home, binary: binary
        ).install(dryRun: false)
        guard report.exitCode == 0 else { throw TestFailure(description: report.failures.joined(separator: "; ")) }
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
}

@Suite struct BundleInfoTests {
    // MARK: matches_binary

    @Test func registeredCommandMatchesThisBinaryThroughSymlinksAndPath() throws {
        let box = try BundleSandbox()
        defer { box.cleanup() }
        let binary = box.dir + "/bin/codestrator"
        let other = box.dir + "/bin/other"
        try box.write(binary, "#!/bin/sh\n")
        try box.write(other, "#!/bin/sh\n")
        let link = box.dir + "/stable-codestrator"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: binary)
        let onPath: (String) -> String? = { $0 == "codestrator" ? link : nil }

        #expect(BundleService.sameExecutable(binary, binary, locate: onPath))
        #expect(BundleService.sameExecutable(link, binary, locate: onPath), "a symlink to the binary is the binary")
        #expect(BundleService.sameExecutable(box.dir + "/bin/../bin/codestrator", binary, locate: onPath))
        #expect(BundleService.sameExecutable("codestrator", binary, locate: onPath), "a bare name is looked up on PATH")
        #expect(!BundleService.sameExecutable(other, binary, locate: onPath))
        #expect(!BundleService.sameExecutable(box.dir + "/bin/missing", binary, locate: onPath))
        #expect(!BundleService.sameExecutable("not-on-path", binary, locate: onPath))
        #expect(!BundleService.sameExecutable("bin/codestrator", binary, locate: onPath), "relative to an unknown cwd")
    }

    // MARK: absent configs

    @Test func nothingInstalledReportsEveryPlaceAsAbsent() throws {
        let box = try BundleSandbox()
        defer { box.cleanup() }
        let facts = InstalledBundleInspector(home: box.home).inspect(repo: box.repo)
        #expect(
            facts.clientConfigs.map { "\($0.client) \($0.scope) \($0.path)" } == [
                "codex project \(box.repo)/.codex/config.toml", "claude project \(box.repo)/.mcp.json",
                "codex user \(box.home)/.codex/config.toml", "claude user \(box.home)/.claude.json",
            ])
        #expect(facts.clientConfigs.allSatisfy { !$0.present && !$0.registered && $0.command == nil && $0.args == nil })
        #expect(facts.skills.count == 4 * SkillText.all.count)
        #expect(facts.skills.allSatisfy { !$0.installed && !$0.current && $0.version == nil })
        #expect(facts.skills.first?.path == "\(box.repo)/.agents/skills/codestrator/SKILL.md")
        #expect(facts.skills.last?.path == "\(box.home)/.claude/skills/codestrator-doc-mirror-manager/SKILL.md")

        // Without a repository only the user scope is inspected; CODEX_HOME moves the Codex user config.
        let user = InstalledBundleInspector.fromEnvironment(["HOME": box.home, "CODEX_HOME": box.dir + "/cx"])
            .inspect(repo: nil)
        #expect(user.clientConfigs.map(\.path) == ["\(box.dir)/cx/config.toml", "\(box.home)/.claude.json"])
        #expect(user.skills.allSatisfy { $0.scope == "user" })
    }

    // MARK: current skills

    @Test func installedSkillsAreCurrentUntilTheirTextDiffersFromTheShippedOne() throws {
        let box = try BundleSandbox()
        defer { box.cleanup() }
        try box.install(.project, binary: "/opt/cs/codestrator")
        let inspector = InstalledBundleInspector(home: box.home)
        var facts = inspector.inspect(repo: box.repo)
        let project = facts.skills.filter { $0.scope == "project" }
        #expect(project.count == 2 * SkillText.all.count)
        #expect(project.allSatisfy { $0.installed && $0.current && $0.version == CodestratorVersion.current })
        #expect(facts.skills.filter { $0.scope == "user" }.allSatisfy { !$0.installed })
        let codex = try #require(facts.clientConfigs.first { $0.client == "codex" && $0.scope == "project" })
        #expect(codex.registered && codex.command == "/opt/cs/codestrator")
        #expect(codex.args == ["serve", "--repo", box.repo])
        let claude = try #require(facts.clientConfigs.first { $0.client == "claude" && $0.scope == "project" })
        #expect(claude.registered && claude.command == "/opt/cs/codestrator" && claude.args == codex.args)

        // Only the references file of one skill changed: installed, same version, not current.
        let worker = box.repo + "/.agents/skills/codestrator-worker"
        try box.write(worker + "/references/methods.md", "# edited\n")
        // An older binary's text: its version is read from the front matter.
        let old = box.repo + "/.claude/skills/codestrator/SKILL.md"
        try box.write(old, SkillText.root.document(version: "0.0.9"))
        facts = inspector.inspect(repo: box.repo)
        let edited = try #require(facts.skills.first { $0.path == worker + "/SKILL.md" })
        #expect(edited.installed && !edited.current && edited.version == CodestratorVersion.current)
        let older = try #require(facts.skills.first { $0.path == old })
        #expect(older.installed && !older.current && older.version == "0.0.9")
        #expect(facts.skills.filter { $0.scope == "project" && !$0.current }.count == 2)
    }

    @Test func frontMatterVersionIsReadQuotedOrNot() {
        #expect(InstalledBundleInspector.frontMatterVersion(SkillText.worker.document(version: "1.2.3")) == "1.2.3")
        #expect(
            InstalledBundleInspector.frontMatterVersion("---\nmetadata:\n  codestrator-version: 2.0\n---\n") == "2.0")
        #expect(InstalledBundleInspector.frontMatterVersion("# no front matter\ncodestrator-version: 1\n") == nil)
        #expect(InstalledBundleInspector.frontMatterVersion("---\nname: x\n---\ncodestrator-version: 1\n") == nil)
    }

    // MARK: configs written by hand, or broken

    @Test func registrationsWrittenByHandAreReadAndBrokenFilesReported() throws {
        let box = try BundleSandbox()
        defer { box.cleanup() }
        try box.write(
            box.home + "/.codex/config.toml",
            "model = \"o3\"\n[mcp_servers.codestrator]\ncommand = \"codestrator\"\nargs = [\"serve\"]\n")
        try box.write(
            box.home + "/.claude.json",
            #"{"numStartups": 3, "mcpServers": {"codestrator": {"type": "stdio", "command": "/usr/local/bin/cs"}}}"#)
        try box.write(box.repo + "/.codex/config.toml", "[mcp_servers\nbroken")
        try box.write(box.repo + "/.mcp.json", "[1, 2]")
        let byPlace = Dictionary(
            uniqueKeysWithValues: InstalledBundleInspector(home: box.home).inspect(repo: box.repo).clientConfigs.map {
                ("\($0.client) \($0.scope)", $0)
            })
        let codexUser = try #require(byPlace["codex user"])
        #expect(codexUser.registered && codexUser.command == "codestrator" && codexUser.args == ["serve"])
        let claudeUser = try #require(byPlace["claude user"])
        #expect(claudeUser.registered && claudeUser.command == "/usr/local/bin/cs" && claudeUser.args == nil)
        for place in ["codex project", "claude project"] {
            let c = try #require(byPlace[place])
            #expect(c.present && !c.registered && c.problem != nil, "\(place): \(c)")
        }
    }

    // MARK: versions

    @Test func versionsAreReadFromProgramOutput() {
        #expect(Toolchain.versionToken("git version 2.39.5 (Apple Git-154)\n") == "2.39.5")
        #expect(Toolchain.versionToken("tmux 3.3a\n") == "3.3a")
        #expect(Toolchain.versionToken("tmux next-3.5\n") == "3.5")
        #expect(Toolchain.versionToken("codex-cli 0.46.0\n") == "0.46.0")
        #expect(Toolchain.versionToken("2.0.14 (Claude Code)\n") == "2.0.14")
        #expect(Toolchain.versionToken("no version here") == nil)
        #expect(Toolchain.atLeast("2.36", Toolchain.minimumGit) && !Toolchain.atLeast("2.35.9", Toolchain.minimumGit))
        #expect(Toolchain.atLeast("3.0a", Toolchain.minimumTmux) && !Toolchain.atLeast("2.9a", Toolchain.minimumTmux))
        #expect(!Toolchain.atLeast("", [1]))
    }

    // MARK: through the registry

    static let fields = [
        "feature", "server_version", "binary_path", "repo_path", "db_path", "schema_version", "role", "thread_id",
        "git", "tmux", "providers", "client_configs", "skills", "skills_root", "role_templates",
    ]

    func dispatcher(_ box: BundleSandbox, role: ProcessRole = .root, thread: Int? = nil, inspector: Bool = true)
        -> Dispatcher
    {
        let provider = Assembly.provider(
            options: ServerOptions(
                repo: box.repo, role: role, threadId: thread, tmuxSocket: "cs-unit-none", oneShot: true),
            programs: FakeProgramProbe(only: ["git", "tmux"]),
            installation: inspector ? InstalledBundleInspector(home: box.home) : nil)
        return Dispatcher(provider: provider, role: role)
    }

    func info(_ d: Dispatcher) async throws -> JSON {
        switch await d.callMethod("runtime.bundle.info", params: [:]) {
        case .success(let r): return r
        case .failure(let m, let e): throw e.asTestFailure(m)
        }
    }

    @Test func bundleInfoReportsTheSpecFieldsAndFlipsWithInstall() async throws {
        let box = try BundleSandbox()
        defer { box.cleanup() }
        let git = try await ProcessRunner.run(["git", "init", "-q", "-b", "main", box.repo])
        #expect(git.ok)
        let root = dispatcher(box)
        var r = try await info(root)
        #expect(r.objectValue?.keys == Self.fields)
        #expect(r["feature"] == "codestrator" && r["server_version"] == .string(CodestratorVersion.current))
        #expect(r["binary_path"] == .string(ProcessIdentity.executablePath))
        #expect(r["repo_path"] == .string(box.repo))
        #expect(r["db_path"] == .string(box.repo + "/.codestrator/state.db"))
        #expect(r["schema_version"] == .int(Migrations.schemaVersion))
        #expect(r["role"] == "root" && r["thread_id"] == .null)
        #expect(r["git"] == .obj(["path": "/fake/bin/git", "version": "2.40.1", "ok": true]))
        #expect(r["tmux"] == .obj(["path": "/fake/bin/tmux", "version": "3.3a", "ok": true, "socket": "cs-unit-none"]))
        #expect(r["providers"]?.arrayValue?.compactMap { $0["provider"]?.stringValue } == Providers.all)
        let providers = try #require(r["providers"]?.arrayValue)
        #expect(providers[0] == .obj(["provider": "codex", "executable": "codex", "found": false, "version": nil]))
        #expect(providers[2] == .obj(["provider": "generic", "executable": nil, "found": nil, "version": nil]))
        #expect(providers[3]["executable"] == .string(ProcessIdentity.executablePath))
        let configs = try #require(r["client_configs"]?.arrayValue)
        #expect(configs.count == 4)
        #expect(
            configs.allSatisfy {
                $0.objectValue?.keys == [
                    "client", "scope", "path", "present", "registered", "command", "args", "matches_binary",
                ] && $0["registered"] == false && $0["matches_binary"] == false
            })
        let skills = try #require(r["skills"]?.arrayValue)
        #expect(skills.count == 20)
        #expect(
            skills.allSatisfy {
                $0.objectValue?.keys == ["name", "client", "scope", "path", "installed", "version", "current"]
                    && $0["installed"] == false
            })
        #expect(r["skills_root"] == .null)
        #expect(r["role_templates"]?.objectValue?.keys == ProcessRole.allCases.map(\.rawValue))
        #expect(r["role_templates"]?.objectValue?.pairs.allSatisfy { $0.value == .null } == true)
        #expect(r["warnings"] == nil)

        // Installed for this binary (the test runner): registered, matching, current.
        try box.install(.project, binary: ProcessIdentity.executablePath)
        r = try await info(root)
        let project = try #require(r["client_configs"]?.arrayValue?.filter { $0["scope"] == "project" })
        #expect(project.count == 2 && project.allSatisfy { $0["registered"] == true && $0["matches_binary"] == true })
        #expect(r["skills"]?.arrayValue?.filter { $0["current"] == true }.count == 10)
        let skillsDir = box.repo + "/.agents/skills"
        #expect(r["skills_root"] == .string(skillsDir))
        #expect(r["role_templates"]?["root"] == .string(skillsDir + "/codestrator/SKILL.md"))
        #expect(r["role_templates"]?["worker"] == .string(skillsDir + "/codestrator-worker/SKILL.md"))

        // Another binary registered: still registered, no longer this binary.
        try box.install(.project, binary: "/opt/elsewhere/codestrator")
        r = try await info(root)
        #expect(
            r["client_configs"]?.arrayValue?.filter { $0["registered"] == true }.allSatisfy {
                $0["matches_binary"] == false && $0["command"] == "/opt/elsewhere/codestrator"
            } == true)
    }

    @Test func bundleInfoIsForTheRootPlanArchitectAndDocMirrorManagerOnly() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (session, _) = try await h.openSession()
        let box = try BundleSandbox()
        defer { box.cleanup() }
        for role in [ProcessRole.planArchitect, .docMirrorManager] {
            let thread = try await h.insertThread(session: session, role: role.threadRole)
            let provider = Assembly.provider(
                options: ServerOptions(repo: h.repo, role: role, threadId: thread, oneShot: true),
                programs: FakeProgramProbe(only: ["git", "tmux"]),
                installation: InstalledBundleInspector(home: box.home))
            let r = try await info(Dispatcher(provider: provider, role: role))
            #expect(r["role"] == .string(role.rawValue) && r["thread_id"] == .int(thread))
        }
        for role in [ProcessRole.worker, .mergeReviewer] {
            let thread = try await h.insertThread(session: session, role: role.threadRole)
            let e = try await h.err("runtime.bundle.info", as: h.child(role, thread: thread))
            #expect(e.code == .forbidden)
            #expect(e.message.hasPrefix("runtime.bundle.info: not allowed for role \(role.rawValue); expected"))
        }
    }

    @Test func withoutAnInspectorConfigsAndSkillsAreEmptyWithAWarning() async throws {
        let box = try BundleSandbox()
        defer { box.cleanup() }
        _ = try await ProcessRunner.run(["git", "init", "-q", "-b", "main", box.repo])
        let r = try await info(dispatcher(box, inspector: false))
        #expect(r["client_configs"] == [] && r["skills"] == [] && r["skills_root"] == .null)
        #expect(r["warnings"]?.arrayValue?.count == 1)
    }
}
