import CodestratorCore
import CodestratorMCP

/// The files of one installed skill folder: `SKILL.md` and `references/methods.md` (docs/install.md#what-install-writes).
public enum SkillFiles {
    /// `relative path → content` for a skill, e.g. `SKILL.md`, `references/methods.md`.
    public static func files(_ skill: SkillText, version: String = CodestratorVersion.current) -> [(String, String)] {
        [("SKILL.md", skill.document(version: version)), ("references/methods.md", methodsReference(for: skill.role))]
    }

    /// The part of the method reference a role may call, generated from the registry. The root gets all of it.
    public static func methodsReference(for role: ThreadRole?, registry: MethodRegistry = .standard) -> String {
        guard let role, let processRole = ProcessRole.allCases.first(where: { $0.threadRole == role }),
            processRole != .root
        else { return MethodReference.markdown(registry) }
        var out = """
            # Codestrator methods for the \(role.rawValue) role

            Generated from the method registry of codestrator \(CodestratorVersion.current). Each tool takes
            `{"method": "<name>", "params": {…}}`; your tools already act as your thread, so session and thread
            ids are optional. `orchestrator_call` reaches the same methods for clients without the `orch_*` tools.

            """
        for group in ToolGroup.allCases {
            let methods = registry.methods(of: group).filter { $0.allowed(for: processRole) && $0.params != nil }
            guard !methods.isEmpty else { continue }
            out += "\n## \(group.rawValue) — \(group.title)\n"
            for m in methods {
                out += "\n### \(m.name)\n\n\(m.summary).\(m.readOnly ? " Read-only." : "")\n"
                let params = m.params ?? []
                if params.isEmpty {
                    out += "\nParams: none.\n"
                    continue
                }
                out += "\n| param | type | required | default | notes |\n|---|---|---|---|---|\n"
                for p in params {
                    let def = p.defaultValue.map { "`\($0.serialized())`" } ?? ""
                    out += "| \(p.name) | \(p.kind.docType) | \(p.required ? "yes" : "") | \(def) | \(p.doc) |\n"
                }
            }
        }
        return out
    }
}
