import CodestratorCore
import CodestratorInstall
import Foundation

/// The checks behind the causes a real client fails on (docs/real-clients.md): an untested version, a repository
/// Codex has not trusted, Codex tools without the approval setting, a project `.mcp.json` server Claude Code has
/// not yet approved.
extension Doctor {
    func versionCheck(provider: String, program: String, version: String?) -> Check {
        let tested = Toolchain.testedVersions[provider] ?? "?"
        let name = "\(program) version"
        guard let version, version.contains(tested) else {
            return Check(
                name: name, level: .warn,
                found: "\(program) \(version ?? "of unknown version") is not the tested \(tested)",
                fix: "its screens may differ from docs/real-clients.md; the tested version is \(tested)")
        }
        return Check(name: name, level: .ok, found: "\(program) \(tested) is the tested version")
    }

    func realClientChecks(root: String, env: [String: String]) -> [Check] {
        var out: [Check] = []
        let (home, codexHome) = Installer.homes(env)
        let codexConfig = (codexHome ?? home + "/.codex") + "/config.toml"
        let userToml = (try? String(contentsOfFile: codexConfig, encoding: .utf8)) ?? ""
        let projectToml = (try? String(contentsOfFile: root + "/.codex/config.toml", encoding: .utf8)) ?? ""
        if Self.tomlTable(userToml, "mcp_servers.codestrator") != nil
            || Self.tomlTable(projectToml, "mcp_servers.codestrator") != nil
        {
            let trusted = Self.tomlTable(userToml, "projects.\"\(root)\"")?.contains {
                $0.replacingOccurrences(of: " ", with: "") == "trust_level=\"trusted\""
            }
            out.append(
                trusted == true
                    ? Check(name: "codex trust", level: .ok, found: "Codex trusts \(root)")
                    : Check(
                        name: "codex trust", level: .warn,
                        found: "Codex has not trusted \(root): it ignores .codex/config.toml there and shows children "
                            + "its trust screen (answered by auto_trust)",
                        fix: "start codex in \(root) once and choose Trust and continue"))
            let approved = [userToml, projectToml].contains { text in
                Self.tomlTable(text, "mcp_servers.codestrator")?.contains {
                    $0.replacingOccurrences(of: " ", with: "") == "default_tools_approval_mode=\"approve\""
                } ?? false
            }
            out.append(
                approved
                    ? Check(name: "codex tool approval", level: .ok, found: "Codestrator's tools are approved")
                    : Check(
                        name: "codex tool approval", level: .warn,
                        found: "Codex asks before each call of orch_session, orch_workspace, orch_thread and "
                            + "orch_merge, and codex exec denies them",
                        fix: "codestrator install --client codex (writes default_tools_approval_mode = \"approve\")"))
        }
        if let data = FileManager.default.contents(atPath: root + "/.mcp.json"),
            (try? JSON.parse(data))?["mcpServers"]?["codestrator"] != nil
        {
            let claudeJSON = FileManager.default.contents(atPath: home + "/.claude.json").flatMap {
                try? JSON.parse($0)
            }
            let project = claudeJSON?["projects"]?[root]
            let enabled = project?["enabledMcpjsonServers"]?.arrayValue?.contains { $0.stringValue == "codestrator" }
            let all = project?["enableAllProjectMcpServers"]?.boolValue
            out.append(
                enabled == true || all == true
                    ? Check(name: "claude project server", level: .ok, found: ".mcp.json server codestrator approved")
                    : Check(
                        name: "claude project server", level: .warn,
                        found: "Claude Code shows .mcp.json's codestrator as pending approval in \(root)",
                        fix: "start claude in \(root) and approve the project server codestrator"))
        }
        return out
    }

    /// The `key = value` lines of a TOML table given by its header (`projects."/path"`), or nil when absent.
    static func tomlTable(_ text: String, _ header: String) -> [String]? {
        var lines: [String]?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                if lines != nil { break }
                if line == "[\(header)]" { lines = [] }
                continue
            }
            if lines != nil, !line.isEmpty, !line.hasPrefix("#") { lines!.append(line) }
        }
        return lines
    }
}
