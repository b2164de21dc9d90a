import Foundation

/// The caller's terminal fingerprint (docs/methods.md#sessionopen):
/// `proc:<host>:<parent pid>:<parent start time>[ tty:<device>]`. It survives a compaction (the
/// agent CLI lives on) and changes when the CLI restarts.
public enum TerminalFingerprint {
    public static func derive() -> String {
        let ppid = Int(getppid())
        var fp = "proc:\(ProcessIdentity.hostName):\(ppid):\(startTime(pid: ppid) ?? 0)"
        if let tty = controllingTTY(pid: ppid) { fp += " tty:\(tty)" }
        return fp
    }

    /// Fields of /proc/<pid>/stat after the command name.
    static func statFields(pid: Int) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// Seconds since the epoch when the process started.
    static func startTime(pid: Int) -> Int? {
        // Field 22 (starttime, clock ticks since boot) is index 19 after the command name.
        guard let f = statFields(pid: pid), f.count > 19, let ticks = Double(f[19]),
            let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let btime = Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        return Int(btime + ticks / (hz > 0 ? hz : 100))
    }

    static func controllingTTY(pid: Int) -> String? {
        // Field 7 (tty_nr) is index 4 after the command name.
        guard let f = statFields(pid: pid), f.count > 4, let nr = Int(f[4]), nr != 0 else { return nil }
        let major = (nr >> 8) & 0xfff
        let minor = (nr & 0xff) | ((nr >> 12) & 0xfff00)
        if (136...143).contains(major) { return "/dev/pts/\((major - 136) * 256 + minor)" }
        if major == 4 { return "/dev/tty\(minor)" }
        return "/dev/char/\(major):\(minor)"
    }
}
