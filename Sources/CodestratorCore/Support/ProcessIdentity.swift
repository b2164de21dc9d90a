import Foundation

/// Facts about this process and its host used for liveness (sessions.server_pid / server_host).
public enum ProcessIdentity {
    public static let hostName: String = {
        var buf = [UInt8](repeating: 0, count: 256)
        buf.withUnsafeMutableBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { _ = gethostname($0, p.count - 1) }
        }
        return String(decoding: buf.prefix(while: { $0 != 0 }), as: UTF8.self)
    }()

    public static var pid: Int { Int(getpid()) }

    /// Whether a process with this id exists on this host.
    public static func isRunning(pid: Int) -> Bool {
        guard pid > 0, pid <= Int(Int32.max) else { return false }
        if kill(pid_t(pid), 0) == 0 { return true }
        return errno == EPERM
    }
}

/// POSIX shell quoting, for display only (commands shown to users); nothing is ever run through a shell.
public enum ShellQuote {
    public static func quote(_ s: String) -> String {
        if !s.isEmpty, s.utf8.allSatisfy(isPlain) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// An ASCII letter, digit or one of `-_./:=@%+,`: a byte the shell reads as itself. Judged on bytes: the
    /// Character properties made `launch_command` a seventh of a 32-child `thread.child.list`.
    static func isPlain(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: ":"),
            UInt8(ascii: "="), UInt8(ascii: "@"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: ","):
            return true
        default:
            return false
        }
    }

    public static func join(_ argv: [String]) -> String { argv.map(quote).joined(separator: " ") }
}

extension ProcessIdentity {
    /// The absolute path of the running binary (children and hooks run the same one).
    public static let executablePath: String = {
        if let r = realpath("/proc/self/exe", nil) {
            defer { free(r) }
            return String(decoding: UnsafeRawBufferPointer(start: r, count: strlen(r)), as: UTF8.self)
        }
        return CommandLine.arguments[0]
    }()
}
