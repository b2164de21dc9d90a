import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Settings of `codestrator serve --http` (protocol.md §11).
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

    public static let minTokenLength = 16

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
        return nil
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
