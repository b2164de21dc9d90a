import CodestratorCore
import CodestratorMCP
import Testing

@testable import CodestratorHTTP

@Suite struct HTTPConfigTests {
    func config(host: String = "127.0.0.1", token: String? = nil, origins: [String] = []) -> HTTPServerConfig {
        HTTPServerConfig(host: host, port: 8765, token: token, allowedOrigins: origins)
    }

    @Test func loopbackHostsNeedNoToken() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] {
            #expect(HTTPServerConfig.isLoopbackHost(host), "\(host)")
            #expect(config(host: host).problem() == nil, "\(host)")
        }
    }

    @Test func otherHostsNeedALongToken() {
        for host in ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1"] {
            #expect(!HTTPServerConfig.isLoopbackHost(host), "\(host)")
            #expect(config(host: host).problem()?.contains("--token") == true, "\(host)")
            #expect(config(host: host, token: String(repeating: "x", count: 16)).problem() == nil)
        }
        let short = config(token: "fifteen-chars!!").problem()
        #expect(short?.contains("at least 16") == true)
        #expect(short?.contains("fifteen") == false, "the token must not be echoed")
    }

    @Test func origins() {
        let c = config(origins: ["https://App.example/"])
        for ok in [
            "http://localhost", "http://localhost:3000", "http://127.0.0.1:9", "http://[::1]:8080",
            "https://app.example", "HTTPS://APP.EXAMPLE",
        ] {
            #expect(c.isAllowedOrigin(ok), "\(ok)")
        }
        for bad in [
            "null", "http://evil.example", "https://app.example.evil", "http://localhost.evil", "http://localhost:80x",
            "https://localhost:3000", "http://127.0.0.1.evil:1", "file://",
        ] {
            #expect(!c.isAllowedOrigin(bad), "\(bad)")
        }
        #expect(config(origins: ["not an origin"]).problem() != nil)
    }

    @Test func constantTimeComparison() {
        #expect(constantTimeEqual(Array("Bearer abc".utf8), Array("Bearer abc".utf8)))
        #expect(!constantTimeEqual(Array("Bearer abc".utf8), Array("Bearer abd".utf8)))
        #expect(!constantTimeEqual(Array("Bearer ab".utf8), Array("Bearer abc".utf8)))
        #expect(!constantTimeEqual([], Array("x".utf8)))
    }

    @Test func eventStoreKeepsAtMost256EventsOr8MiBAndResumes() async {
        let store = EventStore(maxEvents: 256, maxBytes: 8 * 1024 * 1024)
        let s = await store.newStream()
        for i in 0..<300 { _ = await store.append(stream: s, data: Array("\(i)".utf8)) }
        #expect(await store.events.count == 256)
        #expect(await store.events.first?.seq == 45)
        let big = [UInt8](repeating: 0x20, count: 1024 * 1024)
        for _ in 0..<10 { _ = await store.append(stream: s, data: big) }
        #expect(await store.bytes <= 8 * 1024 * 1024)
        let resumed = await store.resume(after: "\(s)_305")
        #expect(resumed?.replay.map(\.seq) == [306, 307, 308, 309, 310])
        #expect(resumed?.live != nil)
        await store.finish(stream: s)
        #expect(await store.resume(after: "\(s)_309")?.live == nil)
        #expect(await store.resume(after: "99_1") == nil)
    }

    @Test func idleSessionsExpire() async {
        var c = config()
        c.idleTimeout = 60
        let sessions = HTTPSessions(config: c)
        let s = await sessions.create()
        #expect(s.id.count == 32)
        #expect(await sessions.expireIdle() == 0)
        #expect(await sessions.expireIdle(now: .init(timeIntervalSinceNow: 61)) == 1)
        #expect(await sessions.get(s.id) == nil)
    }
}
