import CodestratorCore

/// Programs found at made-up paths with made-up version output, so that results do not depend on what
/// the machine has installed. By default git, tmux, codex, claude and `sh` exist.
public struct FakeProgramProbe: ProgramProbe {
    public var programs: [String: (path: String, output: String)]

    public static let standard: [String: (path: String, output: String)] = [
        "git": ("/fake/bin/git", "git version 2.40.1\n"), "tmux": ("/fake/bin/tmux", "tmux 3.3a\n"),
        "codex": ("/fake/bin/codex", "codex-cli 0.50.0\n"), "claude": ("/fake/bin/claude", "2.0.0 (Claude Code)\n"),
        "sh": ("/bin/sh", ""),
    ]

    public init(programs: [String: (path: String, output: String)] = FakeProgramProbe.standard) {
        self.programs = programs
    }

    /// A probe that finds only the named programs of `standard`.
    public init(only names: [String]) {
        programs = FakeProgramProbe.standard.filter { names.contains($0.key) }
    }

    public func locate(_ program: String) -> String? {
        programs[program]?.path ?? programs.values.first { $0.path == program }?.path
    }

    public func output(_ argv: [String], timeout: Double) async -> String? {
        programs.values.first { $0.path == argv.first }?.output
    }
}
