#if canImport(Glibc)
    import Glibc
#endif

/// Gives back the pages of code and read-only data that starting the process touched (docs/runtime-guide.md#child-relay).
/// Loading the binary and running its initializers fault in about 10 MB of it, in 64 KB blocks around each touched
/// page (the kernel's fault-around); a relay then runs a few KB of code. `MADV_DONTNEED` on a clean, read-only file
/// mapping only unmaps its pages from this process (they stay in the page cache for every other process), and what
/// is touched again is faulted back from the same file. Mappings with any private (written) page — relocated data,
/// RELRO — are left alone, as dropping them would lose the writes.
enum StartupPages {
    static func release() {
        let fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        var text: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            text += buf[0..<n]
        }
        close(fd)
        var candidate: (start: UInt, end: UInt)?
        var clean = true
        func flush() {
            if let c = candidate, clean, let p = UnsafeMutableRawPointer(bitPattern: c.start) {
                _ = madvise(p, Int(c.end - c.start), MADV_DONTNEED)
            }
            candidate = nil
        }
        for line in text.split(separator: 0x0A) {
            let fields = line.split(separator: 0x20, omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.contains(0x2D), !first.contains(0x3A), fields.count >= 5 {
                // A mapping's header: "start-end perms offset dev inode [path]".
                flush()
                let range = first.split(separator: 0x2D)
                let perms = fields[1]
                guard range.count == 2, fields.count >= 6, fields[5].first == 0x2F, perms.count >= 2,
                    perms[perms.startIndex] == 0x72, perms[perms.startIndex + 1] == 0x2D,
                    let start = UInt(String(decoding: range[0], as: UTF8.self), radix: 16),
                    let end = UInt(String(decoding: range[1], as: UTF8.self), radix: 16)
                else { continue }
                candidate = (start, end)
                clean = true
            } else if candidate != nil, fields.count >= 2,
                first.elementsEqual("Private_Dirty:".utf8) || first.elementsEqual("Anonymous:".utf8),
                !fields[1].elementsEqual("0".utf8)
            {
                clean = false
            }
        }
        flush()
    }
}
