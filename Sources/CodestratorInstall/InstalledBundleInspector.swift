import CodestratorCore
import Foundation
import TOMLKit

/// `InstallationInspector` from the installer's own map of where each client keeps its server
/// registration and skills (`Installer.location`), so `runtime.bundle.info` looks exactly where
/// `codestrator install` writes, with HOME and CODEX_HOME resolved the same way.
public struct InstalledBundleInspector: InstallationInspector {
    public var home: String
    /// `$CODEX_HOME`; nil means `~/.codex`.
    public var codexHome: String?

    public init(home: String, codexHome: String? = nil) {
        self.home = home
        self.codexHome = codexHome
    }

    /// HOME and CODEX_HOME of this process, as `install` and `doctor` use them.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> InstalledBundleInspector {
        let (home, codexHome) = Installer.homes(environment)
        return InstalledBundleInspector(home: home, codexHome: codexHome)
    }

    /// Project scope first, then user scope; Codex before Claude Code in each; the five skills in
    /// `SkillText.all` order at each place.
    public func inspect(repo: String?) -> InstallationFacts {
        // The texts this binary ships, computed once (the method references are generated).
        let shipped = SkillText.all.map { ($0, SkillFiles.files($0)) }
        var configs: [ClientConfigFacts] = []
        var skills: [SkillFacts] = []
        for scope in InstallScope.allCases {
            if scope == .project && repo == nil { continue }
            for client in InstallClient.allCases {
                let installer = Installer(
                    clients: [client], scope: scope, repo: repo, home: home, codexHome: codexHome, binary: "")
                let loc = installer.location(client)
                configs.append(Self.registration(client, scope, path: loc.serverConfig))
                for (skill, files) in shipped {
                    skills.append(
                        Self.skill(skill, files: files, folder: "\(loc.skillsDir)/\(skill.name)", client, scope))
                }
            }
        }
        return InstallationFacts(clientConfigs: configs, skills: skills)
    }

    /// The `codestrator` entry of one config file: `[mcp_servers.codestrator]` of a Codex `config.toml`,
    /// `mcpServers.codestrator` of `.mcp.json` / `~/.claude.json`; whoever wrote it.
    static func registration(_ client: InstallClient, _ scope: InstallScope, path: String) -> ClientConfigFacts {
        var facts = ClientConfigFacts(
            client: client.rawValue, scope: scope.rawValue, path: path, present: false, registered: false,
            command: nil, args: nil)
        guard let data = Files.read(path) else { return facts }
        facts.present = true
        switch client {
        case .codex:
            let table: TOMLTable
            do {
                table = try TOMLTable(string: String(decoding: data, as: UTF8.self))
            } catch {
                facts.problem = "not valid TOML (\(ManagedEdit.describe(error)))"
                return facts
            }
            guard let entry = table["mcp_servers"]?.table?["codestrator"]?.table else { return facts }
            facts.registered = true
            facts.command = entry["command"]?.string
            facts.args = entry["args"]?.array.map { $0.compactMap(\.string) }
        case .claude:
            // An empty file is what some tools leave behind; it registers nothing and is not an error.
            if data.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) { return facts }
            guard let root = try? JSON.parse(Array(data)), root.objectValue != nil else {
                facts.problem = "not a JSON object"
                return facts
            }
            guard let entry = root["mcpServers"]?["codestrator"] else { return facts }
            facts.registered = true
            facts.command = entry["command"]?.stringValue
            facts.args = entry["args"]?.arrayValue?.compactMap(\.stringValue)
        }
        return facts
    }

    /// One skill folder: installed when its `SKILL.md` exists; current when every file equals the text
    /// this binary ships (`files`, as `install` writes them).
    static func skill(
        _ skill: SkillText, files: [(String, String)], folder: String, _ client: InstallClient, _ scope: InstallScope
    ) -> SkillFacts {
        let path = folder + "/SKILL.md"
        let main = Files.read(path)
        let current = main != nil && files.allSatisfy { rel, text in Files.read("\(folder)/\(rel)") == Data(text.utf8) }
        return SkillFacts(
            name: skill.name, client: client.rawValue, scope: scope.rawValue, path: path, installed: main != nil,
            version: main.flatMap { frontMatterVersion(String(decoding: $0, as: UTF8.self)) }, current: current)
    }

    /// `metadata.codestrator-version` of a `SKILL.md` front matter (`SkillText.document`), quoted or not.
    static func frontMatterVersion(_ text: String) -> String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first?.trimmingCharacters(in: .whitespaces) == "---" else { return nil }
        for line in lines.dropFirst() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t == "---" { break }
            guard t.hasPrefix("codestrator-version:") else { continue }
            var value = t.dropFirst("codestrator-version:".count).trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
            }
            return value.isEmpty ? nil : value
        }
        return nil
    }
}
