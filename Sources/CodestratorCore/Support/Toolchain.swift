import Foundation

/// The outside programs Codestrator runs, their minimum versions (docs/runtime-guide.md#running-outside-programs) and the agent CLIs of
/// the providers (docs/runtime-guide.md#providers-and-launch-flags): one set of probes for `runtime.bundle.info` and `codestrator doctor`.
public enum Toolchain {
    public static let minimumGit = [2, 36]
    public static let minimumTmux = [3, 0]
    /// From this tmux on, viewers attach with `-f ignore-size` (docs/runtime-guide.md#read-only-viewing).
    public static let viewerTmux = [3, 2]
    /// The limit of one version probe. The probes of a bundle info run concurrently, so the call never
    /// waits much longer than this even when an agent CLI hangs.
    public static let probeTimeout: Double = 5
    /// The program each provider with an agent CLI launches by default (`codex_command` may name another).
    public static let providerPrograms: [(provider: String, program: String)] = [
        ("codex", "codex"), ("claude_code", "claude"),
    ]

    /// The client versions whose screens, hooks and flags the real-client suite proves (docs/real-clients.md).
    /// Another version may draw its screens differently: `doctor` warns.
    public static let testedVersions: [String: String] = ["codex": "0.163.0", "claude_code": "2.1.327"]

    /// A program Codestrator needs: where it runs from, its version, and whether that version suffices.
    public struct Program: Sendable, Equatable {
        public var path: String?
        public var version: String?
        public var ok: Bool

        public init(path: String?, version: String?, ok: Bool) {
            self.path = path
            self.version = version
            self.ok = ok
        }
    }

    /// One provider of docs/runtime-guide.md#providers-and-launch-flags and the program it launches.
    public struct Provider: Sendable, Equatable {
        public var provider: String
        /// The program's path when found, else its name; nil for `generic`, which runs each spawn's own
        /// `launch_argv`.
        public var executable: String?
        /// nil for `generic` (nothing to find).
        public var found: Bool?
        public var version: String?

        public init(provider: String, executable: String?, found: Bool?, version: String?) {
            self.provider = provider
            self.executable = executable
            self.found = found
            self.version = version
        }
    }

    /// `git --version`; ok from 2.36.
    public static func git(_ probe: any ProgramProbe) async -> Program {
        await program("git", ["--version"], minimum: minimumGit, probe)
    }

    /// `tmux -V`; ok from 3.0.
    public static func tmux(_ probe: any ProgramProbe) async -> Program {
        await program("tmux", ["-V"], minimum: minimumTmux, probe)
    }

    static func program(_ name: String, _ args: [String], minimum: [Int], _ probe: any ProgramProbe) async -> Program {
        guard let path = probe.locate(name) else { return Program(path: nil, version: nil, ok: false) }
        let version = await probe.output([path] + args, timeout: probeTimeout).flatMap(versionToken)
        return Program(path: path, version: version, ok: version.map { atLeast($0, minimum) } ?? false)
    }

    /// Every provider of `Providers.all`, in that order. `sim` is this binary (`binary`), so it is never
    /// run; the agent CLIs are asked `--version` concurrently.
    public static func providers(_ probe: any ProgramProbe, binary: String) async -> [Provider] {
        var found: [String: Provider] = [:]
        await withTaskGroup(of: Provider.self) { group in
            for (provider, program) in providerPrograms {
                group.addTask {
                    guard let path = probe.locate(program) else {
                        return Provider(provider: provider, executable: program, found: false, version: nil)
                    }
                    let out = await probe.output([path, "--version"], timeout: probeTimeout)
                    return Provider(
                        provider: provider, executable: path, found: true,
                        version: out.flatMap { versionToken($0) ?? firstLine($0) })
                }
            }
            for await p in group { found[p.provider] = p }
        }
        return Providers.all.map { name in
            switch name {
            case "generic": return Provider(provider: name, executable: nil, found: nil, version: nil)
            case "sim":
                return Provider(provider: name, executable: binary, found: true, version: CodestratorVersion.current)
            default: return found[name] ?? Provider(provider: name, executable: nil, found: false, version: nil)
            }
        }
    }

    /// The first version-like word of a program's output: `git version 2.39.5` → `2.39.5`, `tmux 3.3a` →
    /// `3.3a`, `codex-cli 0.46.0` → `0.46.0`; nil when there is none.
    public static func versionToken(_ text: String) -> String? {
        guard let r = text.range(of: #"[0-9]+(\.[0-9]+)+[0-9A-Za-z.+-]*"#, options: .regularExpression) else {
            return nil
        }
        var token = String(text[r])
        while token.hasSuffix(".") || token.hasSuffix("-") { token.removeLast() }
        return token
    }

    /// The numbers of a version (`3.3a` → [3, 3]).
    public static func numbers(_ version: String) -> [Int] {
        version.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
    }

    /// Whether `version` is at least `minimum`, component by component (missing components count as 0).
    public static func atLeast(_ version: String, _ minimum: [Int]) -> Bool {
        let v = numbers(version)
        guard !v.isEmpty else { return false }
        for i in 0..<max(v.count, minimum.count) {
            let a = i < v.count ? v[i] : 0
            let b = i < minimum.count ? minimum[i] : 0
            if a != b { return a > b }
        }
        return true
    }

    static func firstLine(_ text: String) -> String? {
        let line = text.split(whereSeparator: \.isNewline).first.map {
            String($0.trimmingCharacters(in: .whitespaces).prefix(80))
        }
        return line?.isEmpty == false ? line : nil
    }
}
