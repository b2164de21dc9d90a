import CodestratorCore
import Foundation

/// `TmuxProbe` over the tmux CLI: `tmux -V` and `list-sessions`, argv only, 10 s limit.
public struct CLITmuxProbe: TmuxProbe {
    public init() {}

    public func version() async -> String? {
        guard let r = try? await ProcessRunner.run(["tmux", "-u", "-V"], timeout: 10), r.ok else { return nil }
        let words = r.out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
        return words.count >= 2 ? String(words[1]) : nil
    }

    public func sessionNames(socket: String?) async -> [String]? {
        let argv = ["tmux", "-u"] + AttachCommand.socketArgs(socket) + ["list-sessions", "-F", "#{session_name}"]
        guard let r = try? await ProcessRunner.run(argv, timeout: 10), r.ok else { return nil }
        return r.out.split(separator: "\n").map(String.init)
    }
}
