import Foundation

/// `.codestrator/providers.json`: per-repository defaults for each provider, with the keys of
/// `agent_override` (`model`, `extra_args`, `env`, `patterns`, `interrupt_keys`, `exit_keys`,
/// `auto_trust`, `sim_scenario`, …), for example
/// `{"codex": {"model": "gpt-5-codex", "extra_args": ["--search"]}, "generic": {"patterns": {"idle": "> $"}}}`.
public enum ProviderOverrides {
    public static func load(_ path: String) throws -> [String: JSON] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        guard let parsed = try? JSON.parse(Array(data)), case .object(let o) = parsed else {
            throw CodestratorError(
                .invalidParams, "\(path) is not a JSON object", expected: "{\"<provider>\": {agent_override keys}}",
                field: "provider")
        }
        var out: [String: JSON] = [:]
        for (k, v) in o.pairs where v.objectValue != nil { out[k] = v }
        return out
    }

    /// The repository's settings with the spawn's `agent_override` on top (objects merge one level deep:
    /// `env` and `patterns` keys add up).
    public static func merged(repository: JSON?, spawn: JSON) throws -> JSON {
        guard let base = repository?.objectValue else { return spawn }
        var out = base
        for (k, v) in spawn.objectValue?.pairs ?? [] {
            if case .object(let inner) = v, case .object(var existing)? = out[k] {
                for (ik, iv) in inner.pairs { existing[ik] = iv }
                out[k] = .object(existing)
            } else {
                out[k] = v
            }
        }
        return .object(out)
    }
}
