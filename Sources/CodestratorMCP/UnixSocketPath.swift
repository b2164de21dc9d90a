#if canImport(Glibc)
    import Glibc
#endif

/// A Unix socket address for a path. `sun_path` holds 107 bytes; a longer path (a deep repository) is reached
/// through its directory opened as a file descriptor (`/proc/self/fd/N/name`), which Linux resolves for
/// bind and connect alike.
public enum UnixSocketPath {
    /// Calls `body` with the address of `path`; returns -1 with errno set when the path cannot be addressed.
    public static func with(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        let maxPath = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
        if path.utf8.count <= maxPath { return withShort(path, body) }
        guard let slash = path.utf8.lastIndex(of: 0x2F) else {
            errno = ENAMETOOLONG
            return -1
        }
        let dir = String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        let dirFD = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { return -1 }
        defer { close(dirFD) }
        let short = "/proc/self/fd/\(dirFD)/\(name)"
        guard short.utf8.count <= maxPath else {
            errno = ENAMETOOLONG
            return -1
        }
        return withShort(short, body)
    }

    static func withShort(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
            raw[path.utf8.count] = 0
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// A connected stream socket to `path`, or nil (no socket there, nobody listening, or not allowed).
    public static func connect(_ path: String) -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var r: Int32
        repeat { r = with(path) { Glibc.connect(fd, $0, $1) } } while r != 0 && errno == EINTR
        guard r == 0 else {
            close(fd)
            return nil
        }
        return fd
    }
}
