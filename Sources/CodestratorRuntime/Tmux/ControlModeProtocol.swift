import Foundation

/// The text side of tmux control mode (`tmux -C`, docs/runtime-guide.md#tmux-control-mode): argv turned into one
/// command line, and the lines tmux writes back split into command replies and notifications. Pure, so the
/// framing and quoting are unit-tested apart from any tmux.
public enum ControlModeProtocol {
    /// One command line for `args`, the argv a one-shot `tmux` would get, or nil when it cannot be written as
    /// one line that tmux parses back into exactly those arguments (a NUL byte): such a command goes through
    /// the one-shot path. An argument that is exactly `;` separates commands, as it does in tmux's argv.
    ///
    /// Every other argument is single-quoted (tmux expands nothing inside single quotes: no `$`, `~`, `#`,
    /// `;` or `{`); a `'`, a newline or a carriage return closes the quote and is written as a backslash
    /// escape between two quoted runs, because a control-mode command must stay on one line.
    public static func commandLine(_ args: [String]) -> String? {
        var parts: [String] = []
        for arg in args {
            if arg == ";" {
                parts.append(";")
                continue
            }
            guard let q = quote(arg) else { return nil }
            parts.append(q)
        }
        return parts.joined(separator: " ")
    }

    /// `s` as one tmux command-language word (see `commandLine`), nil when it holds a NUL byte.
    public static func quote(_ s: String) -> String? {
        var out = "'"
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\0": return nil
            case "'": out += "'\\''"
            case "\n": out += "'\\n'"
            case "\r": out += "'\\r'"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "'"
    }

    /// What one line from the control client means.
    public enum Event: Equatable, Sendable {
        /// A command reply finished: its output lines and whether tmux reported an error (`%error`).
        case reply(ok: Bool, lines: [String])
        /// A pane wrote output (`%output`, `%extended-output`) or changed mode.
        case paneActivity(String)
        /// Panes may look different without output of their own (a window's layout changed).
        case layoutChanged
        /// The control client attached to another session (`%session-changed $id name`).
        case sessionChanged(id: String)
        /// tmux is detaching the client (`%exit`).
        case exit
    }

    /// Reads the line stream of a control client. A reply is framed by `%begin <time> <number> <flags>` and
    /// the `%end` or `%error` line with the same time and number; every line between them is output, whatever
    /// it starts with (a captured screen may hold `%end …` lines). Blocks whose flags are 0 were not started
    /// by a command of ours (the attach itself) and are read but not reported.
    public struct Parser: Sendable {
        var block: (time: Substring, number: Substring, ours: Bool)?
        var lines: [String] = []
        public init() {}

        public mutating func feed(_ line: String) -> Event? {
            if let b = block {
                if line.hasPrefix("%end ") || line.hasPrefix("%error ") {
                    let f = line.split(separator: " ", omittingEmptySubsequences: false)
                    if f.count >= 3, f[1] == b.time, f[2] == b.number {
                        let out = lines
                        block = nil
                        lines = []
                        return b.ours ? .reply(ok: f[0] == "%end", lines: out) : nil
                    }
                }
                lines.append(line)
                return nil
            }
            guard line.hasPrefix("%") else { return nil }
            let f = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            switch f[0] {
            case "%begin":
                guard f.count >= 4 else { return nil }
                block = (f[1], f[2], f[3] != "0")
                lines = []
                return nil
            case "%output", "%pane-mode-changed":
                return f.count >= 2 ? .paneActivity(String(f[1])) : nil
            case "%extended-output":
                return f.count >= 2 ? .paneActivity(String(f[1])) : nil
            case "%layout-change", "%window-pane-changed":
                return .layoutChanged
            case "%session-changed":
                return f.count >= 2 ? .sessionChanged(id: String(f[1])) : nil
            case "%exit":
                return .exit
            default:
                return nil
            }
        }

        /// True while a reply's lines are being read.
        public var inReply: Bool { block != nil }
    }
}
