import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// When a process started, read from the kernel (`/proc/<pid>/stat` on Linux, `sysctl` on macOS); nil when
/// the process is gone or the time cannot be read. Reconciliation judges an unrecorded pane's age by it.
public enum ProcessStartTime {
    public static func of(pid: Int) -> Date? {
        guard pid > 0 else { return nil }
        #if os(Linux)
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // Fields after the command name: state is field 3, starttime field 22 (clock ticks after boot).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 19, let ticks = Double(fields[19]), let boot = bootTime() else { return nil }
            let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
            guard hz > 0 else { return nil }
            return Date(timeIntervalSince1970: boot + ticks / hz)
        #elseif canImport(Darwin)
            var info = kinfo_proc()
            var size = MemoryLayout<kinfo_proc>.stride
            var mib: [Int32] = [CTL_KERN, KERN_PROC, KERN_PROC_PID, Int32(pid)]
            guard sysctl(&mib, 4, &info, &size, nil, 0) == 0, size > 0 else { return nil }
            let tv = info.kp_proc.p_un.__p_starttime
            return Date(timeIntervalSince1970: Double(tv.tv_sec) + Double(tv.tv_usec) / 1_000_000)
        #else
            return nil
        #endif
    }

    #if os(Linux)
        static func bootTime() -> Double? {
            guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
            for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
                return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
            }
            return nil
        }
    #endif
}
