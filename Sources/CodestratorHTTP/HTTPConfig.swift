import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Settings of `codestrator serve --http` (docs/http.md).
public struct HTTPServerConfig: Sendable {
    public var host: String
    public var port: Int
    public var token: String?
    public var allowedOrigins: [String]
    /// Largest request body (413 above it).
    public var maxBody = 16 * 1024 * 1024
    /// Sessions without a request for this long are closed.
    public var idleTimeout: Double = 30 * 60
    /// Undelivered events kept per session for resumption.
    public var maxEvents = 256
    public var maxEventBytes = 8 * 1024 * 1024
    /// Seconds a connection may stay silent while the server waits for a request's head or the rest of its
    /// body; then a half-sent body gets `408` and the connection is closed.
    public var readTimeout: Double = 30
    /// Open connections served at once (`--max-connections`); nil: `defaultMaxConnections`, lowered to fit
    /// the open-file limit.
    public var maxConnections: Int?
    /// Live handshake-era sessions; `initialize` past it gets `503`.
    public var maxSessions = 256
    /// Seconds SIGTERM waits for responses in progress before their connections are closed.
    public var shutdownGrace: Double = 3
    /// The process's open-file limit (`openFileLimit()`); connections must fit under it.
    public var openFileLimit = Int.max

    public static let minTokenLength = 16
    public static let defaultMaxConnections = 256
    /// Descriptors kept for everything but connections: the database, git and tmux pipes, the log.
    public static let reservedFiles = 64
    /// Connections past the cap still accepted, to be answered `503`; past those the server stops accepting
    /// (new connections wait in the listen backlog) instead of running out of descriptors.
    public static let sheddingConnections = 16
    public static let readTimeoutRange: ClosedRange<Double> = 1...3600
    public static let maxSessionsRange = 1...100_000
    public static let maxConnectionsLimit = 1_000_000

    /// Connections the open-file limit leaves for serving (the shedding slots not counted).
    var connectionRoom: Int {
        openFileLimit == Int.max ? Int.max : openFileLimit - Self.reservedFiles - Self.sheddingConnections
    }

    /// The connections served at once.
    public var connectionCap: Int { maxConnections ?? min(Self.defaultMaxConnections, connectionRoom) }

    /// Why the default connection cap was lowered, or nil.
    public var connectionCapNote: String? {
        guard maxConnections == nil, connectionCap < Self.defaultMaxConnections else { return nil }
        return "http: connection cap lowered to \(connectionCap) (open-file limit \(openFileLimit))"
    }

    public init(host: String, port: Int, token: String?, allowedOrigins: [String]) {
        self.host = host
        self.port = port
        self.token = token
        self.allowedOrigins = allowedOrigins
    }

    /// Why the settings cannot be served (a usage error, exit 2 before listening), or nil.
    public func problem() -> String? {
        if !(0...65535).contains(port) { return "--port \(port) is out of range; expected 0 to 65535" }
        if let token, token.count < Self.minTokenLength {
            return "--token is \(token.count) characters long; expected at least \(Self.minTokenLength)"
        }
        if token == nil && !Self.isLoopbackHost(host) {
            return
                "--host \(host) is not a loopback address; expected --token (at least \(Self.minTokenLength) characters) or a loopback host such as 127.0.0.1"
        }
        for o in allowedOrigins where Self.normalizedOrigin(o) == nil {
            return "--allow-origin \"\(o)\" is not an origin; expected scheme://host[:port], e.g. https://app.example"
        }
        if !Self.readTimeoutRange.contains(readTimeout) || readTimeout.isNaN {
            return
                "--read-timeout \(readTimeout) is out of range; expected seconds from \(Int(Self.readTimeoutRange.lowerBound)) to \(Int(Self.readTimeoutRange.upperBound))"
        }
        if !Self.maxSessionsRange.contains(maxSessions) {
            return
                "--max-sessions \(maxSessions) is out of range; expected \(Self.maxSessionsRange.lowerBound) to \(Self.maxSessionsRange.upperBound)"
        }
        if connectionRoom < 1 {
            return
                "the open-file limit \(openFileLimit) is too low to serve HTTP; expected at least \(Self.reservedFiles + Self.sheddingConnections + 1) (ulimit -n)"
        }
        let upper = min(connectionRoom, Self.maxConnectionsLimit)
        if let n = maxConnections, n < 1 || n > upper {
            let why = upper < Self.maxConnectionsLimit ? " (what the open-file limit \(openFileLimit) leaves)" : ""
            return "--max-connections \(n) is out of range; expected 1 to \(upper)\(why)"
        }
        return nil
    }

    /// Raises the soft open-file limit to the hard one and returns it (Int.max when unlimited).
    public static func openFileLimit() -> Int {
        var lim = rlimit()
        #if canImport(Glibc)
            let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
            let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &lim) == 0 else { return Int.max }
        if lim.rlim_cur < lim.rlim_max {
            var raised = lim
            raised.rlim_cur = lim.rlim_max
            #if os(macOS)
                raised.rlim_cur = min(lim.rlim_max, rlim_t(OPEN_MAX))
            #endif
            if setrlimit(resource, &raised) == 0 { lim = raised }
        }
        return lim.rlim_cur > rlim_t(Int32.max) ? Int.max : Int(lim.rlim_cur)  // unlimited, or as good as
    }

    /// Whether `host` is a loopback address, or a name all of whose addresses are loopback.
    public static func isLoopbackHost(_ host: String) -> Bool {
        let h = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if h.isEmpty { return false }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(h, nil, &hints, &res) == 0, let first = res else { return false }
        defer { freeaddrinfo(res) }
        var p: UnsafeMutablePointer<addrinfo>? = first
        var any = false
        while let ai = p {
            any = true
            switch ai.pointee.ai_family {
            case AF_INET:
                let ok = ai.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    UInt32(bigEndian: $0.pointee.sin_addr.s_addr) >> 24 == 127
                }
                if !ok { return false }
            case AF_INET6:
                let ok = ai.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sa in
                    withUnsafeBytes(of: sa.pointee.sin6_addr) { b in
                        // ::1, or an IPv4-mapped loopback ::ffff:127.x.x.x
                        (b.prefix(15).allSatisfy { $0 == 0 } && b[15] == 1)
                            || (b.prefix(10).allSatisfy { $0 == 0 } && b[10] == 0xff && b[11] == 0xff && b[12] == 127)
                    }
                }
                if !ok { return false }
            default:
                return false
            }
            p = ai.pointee.ai_next
        }
        return any
    }

    /// `scheme://host[:port]` in lower case, without a trailing slash; nil when it is not an origin.
    public static func normalizedOrigin(_ s: String) -> String? {
        var o = s.trimmingCharacters(in: .whitespaces).lowercased()
        while o.hasSuffix("/") { o.removeLast() }
        guard let r = o.range(of: "://"), !o[r.upperBound...].isEmpty, !o[r.upperBound...].contains("/") else {
            return nil
        }
        let scheme = o[..<r.lowerBound]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0 == "+" || $0 == "-" || $0 == "." }) else {
            return nil
        }
        return o
    }

    /// Loopback origins (`http://localhost:*`, `http://127.0.0.1:*`, `http://[::1]:*`) and `--allow-origin`.
    public func isAllowedOrigin(_ origin: String) -> Bool {
        guard let o = Self.normalizedOrigin(origin) else { return false }
        for prefix in ["http://localhost", "http://127.0.0.1", "http://[::1]"] where o.hasPrefix(prefix) {
            let rest = o.dropFirst(prefix.count)
            if rest.isEmpty { return true }
            if rest.first == ":", rest.count > 1, rest.dropFirst().allSatisfy(\.isNumber) { return true }
        }
        return allowedOrigins.contains { Self.normalizedOrigin($0) == o }
    }
}

/// Constant-time comparison of two byte strings (the time depends only on their lengths).
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var diff = UInt8(a.count == b.count ? 0 : 1)
    let n = max(a.count, b.count)
    for i in 0..<n {
        let x = i < a.count ? a[i] : 0
        let y = i < b.count ? b[i] : 0
        diff |= x ^ y
    }
    return diff == 0
}
