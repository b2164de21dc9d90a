import CodestratorCore

/// The method reference (`docs/methods.md`), generated from the registry so it cannot drift.
public enum MethodReference {
    public static func markdown(_ registry: MethodRegistry = .standard) -> String {
        var out = """
            # Codestrator method reference

            Generated from the method registry by `codestrator reference`; a test keeps this file current.
            This page lists what this build registers; the rules behind the methods are in docs/protocol-eras.md,
            docs/database.md and docs/runtime-guide.md. Each tool takes `{"method": "<name>", "params": {…}}`; `orchestrator_call`
            (alias `orchestrator.call`) reaches every method the role may call.

            Roles: the root may call every method; "child roles" lists the others that may (W worker,
            V merge-reviewer, P plan-architect, D doc-mirror-manager). Methods marked *not built yet* answer
            `isError` with code `not_implemented`.

            Unknown keys: a read-only method ignores them with a warning (`did you mean …?` when one is close).
            A method that writes refuses a key that misspells a declared one (the same letters in another case
            or with `_`/`-` changed, like `userRequest`, or within two edits, like `sesion_id`) with
            `invalid_params` naming the key and the declared name, and writes nothing; other unknown keys are
            ignored with a warning.

            """
        for group in ToolGroup.allCases {
            out += "\n## \(group.rawValue) — \(group.title)\n\n\(group.blurb)\n"
            for m in registry.methods(of: group) {
                let roles = m.childRoles.isEmpty ? "root only" : "root, " + roleLetters(m.childRoles)
                out += "\n### \(m.name)\n\n\(m.summary).\(m.readOnly ? " Read-only." : "") Roles: \(roles).\n"
                guard let params = m.params else {
                    out += "\n*Not built yet* (\(m.ownedBy ?? "a later issue")).\n"
                    continue
                }
                if params.isEmpty {
                    out += "\nParams: none.\n"
                    continue
                }
                out += "\n| param | type | required | default | notes |\n|---|---|---|---|---|\n"
                for p in params {
                    let def = p.defaultValue.map { "`\($0.serialized())`" } ?? ""
                    let notes = p.doc + (p.nullable ? (p.doc.isEmpty ? "" : "; ") + "`null` clears it" : "")
                    out += "| \(p.name) | \(p.kind.docType) | \(p.required ? "yes" : "") | \(def) | \(notes) |\n"
                }
            }
        }
        return out
    }

    static func roleLetters(_ roles: Set<ProcessRole>) -> String {
        let order: [(ProcessRole, String)] = [
            (.worker, "W"), (.mergeReviewer, "V"), (.planArchitect, "P"), (.docMirrorManager, "D"),
        ]
        return order.filter { roles.contains($0.0) }.map(\.1).joined(separator: " ")
    }
}
