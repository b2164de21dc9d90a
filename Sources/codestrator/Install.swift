import ArgumentParser
import CodestratorAssembly
import CodestratorCore
import CodestratorInstall
import CodestratorRuntime
import Foundation

/// `codestrator install`: registers the server, hook, skills and instructions for Codex and Claude Code
/// (docs/install.md#install-command). Exit 0 done, 1 a file could not be changed safely, 2 usage.
struct Install: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register Codestrator with Codex and Claude Code (server, SessionStart hook, skills, instructions).")

    @Option(help: "codex, claude or all.") var client: String = "all"
    @Option(help: "project (this repository) or user (your home folder).") var scope: String = "project"
    @Option(help: "Any directory inside the repository (default: the working directory).") var repo: String?
    @Option(help: "The binary to register (default: this executable's absolute path).") var binary: String?
    @Flag(help: "Remove what install wrote, restoring the original files.") var uninstall = false
    @Flag(name: .customLong("dry-run"), help: "Print what would change (a unified diff per file); write nothing.")
    var dryRun = false

    func run() async throws {
        let clients: [InstallClient]
        switch client {
        case "all": clients = InstallClient.allCases
        case "codex", "claude": clients = [InstallClient(rawValue: client)!]
        default: throw ValidationError("--client \"\(client)\" is unknown; expected codex|claude|all")
        }
        guard let scope = InstallScope(rawValue: scope) else {
            throw ValidationError("--scope \"\(self.scope)\" is unknown; expected project|user")
        }
        let env = ProcessInfo.processInfo.environment
        let cwd = FileManager.default.currentDirectoryPath
        var root: String?
        if scope == .project {
            let dir = absolute(repo ?? cwd, cwd)
            guard let r = try? await Assembly.makeGitClient().mainWorktree(containing: dir) else {
                FileHandle.standardError.write(
                    Data(
                        "codestrator install: \(dir) is not inside a git repository; project scope needs one (run git init, or use --scope user)\n"
                            .utf8))
                throw ExitCode(1)
            }
            root = r
        }
        let (home, codexHome) = Installer.homes(env)
        let installer = Installer(
            clients: clients, scope: scope, repo: root, home: home, codexHome: codexHome,
            binary: absolute(binary ?? Self.executablePath(), cwd))
        var report = uninstall ? installer.uninstall(dryRun: dryRun) : installer.install(dryRun: dryRun)
        if scope == .project, !dryRun, !uninstall, report.exitCode == 0, let root {
            // The manifest lives in .codestrator/, which must stay out of git (docs/protocol-eras.md#repository-and-database).
            if let exclude = try? await Assembly.makeGitClient().infoExcludePath(repo: root) {
                _ = try? RepositoryLayout.ensureExcluded(excludePath: exclude)
            }
        }
        if scope == .user && clients.contains(.claude) && report.exitCode == 0 {
            await registerClaudeUser(installer, &report)
        }
        print(report.rendered(dryRun: dryRun))
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    /// Claude Code keeps user-scope servers in its own state: `claude mcp add --scope user` when `claude` is
    /// on PATH, else the command is printed as a manual step.
    func registerClaudeUser(_ installer: Installer, _ report: inout InstallReport) async {
        let add = ["claude", "mcp", "add", "--scope", "user", "codestrator", "--", installer.binary, "serve"]
        let remove = ["claude", "mcp", "remove", "--scope", "user", "codestrator"]
        let argv = uninstall ? remove : add
        let shown = argv.map(Shell.quote).joined(separator: " ")
        guard Self.which("claude") != nil else {
            report.nextSteps.insert("claude is not on PATH; run: \(shown)", at: 0)
            return
        }
        if dryRun {
            report.notes.append("would run: \(shown)")
            return
        }
        // `claude mcp get` shows the entry that wins in this folder: inside a repository with a project install
        // it is the project's `.mcp.json` one, which says nothing about the user scope.
        if !uninstall,
            let r = try? await ProcessRunner.run(["claude", "mcp", "get", "codestrator"], timeout: 10), r.ok,
            r.out.contains(installer.binary), r.out.contains("Scope: User config")
        {
            report.notes.append("claude mcp (user scope): codestrator already registered")
            return
        }
        if !uninstall { _ = try? await ProcessRunner.run(remove, timeout: 10) }
        let r = try? await ProcessRunner.run(argv, timeout: 20)
        if r?.ok == true {
            report.notes.append("ran: \(shown)")
        } else {
            report.nextSteps.insert("`\(shown)` failed; run it by hand", at: 0)
        }
    }

    static func executablePath() -> String {
        let arg0 = CommandLine.arguments.first ?? "codestrator"
        if arg0.contains("/") { return arg0 }
        return which(arg0) ?? Bundle.main.executablePath ?? arg0
    }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

func absolute(_ path: String, _ cwd: String) -> String {
    let p = path.hasPrefix("/") ? path : cwd + "/" + path
    return (p as NSString).standardizingPath
}
