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
            // Read with one open/read: every pane of a `list-panes -a` comes here, on the path of a list refresh.
            guard let stat = readSmallFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")"))
            else { return nil }
            // Fields after the command name: state is field 3, starttime field 22 (clock ticks after boot).
            let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
            guard fields.count > 19, let ticks = Double(String(decoding: fields[19], as: UTF8.self)),
                let boot = bootTime
            else { return nil }
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
        /// The boot time never changes while the process runs: read once.
        static let bootTime: Double? = {
            guard let bytes = readSmallFile("/proc/stat") else { return nil }
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("btime ") {
                return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
            }
            return nil
        }()

        /// A /proc file's bytes (at most 64 KiB), nil when it cannot be read.
        static func readSmallFile(_ path: String) -> [UInt8]? {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var out: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 4096)
            while out.count < 65_536 {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                out.append(contentsOf: buf[0..<n])
            }
            return out.isEmpty ? nil : out
        }
    #endif
}
