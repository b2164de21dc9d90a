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
        let resumed = try? await store.resume(after: "\(s)_305").get()
        #expect(resumed?.replay.map(\.seq) == [306, 307, 308, 309, 310])
        #expect(resumed?.live != nil)
        #expect((try? await store.resume(after: "\(s)_311").get()) == nil, "an n the live stream has not reached")
        await store.finish(stream: s)
        #expect((try? await store.resume(after: "\(s)_309").get())?.live == nil)
        #expect((try? await store.resume(after: "99_1").get()) == nil)
    }

    @Test func forgedEventIdsAreRefused() async {
        let store = EventStore(maxEvents: 256, maxBytes: 8 * 1024 * 1024)
        #expect(await refusal(store, "1_0")?.status == .notFound, "no stream opened yet")
        let s = await store.newStream()
        _ = await store.append(stream: s, data: Array("x".utf8))
        #expect((try? await store.resume(after: "1_0").get())?.replay.count == 1)
        for malformed in ["-1_0", "1_-1", "+1_0", "1", "1_", "_1", "a_b", "1_0_0", "1 _0", "99999999999999999999_0"] {
            let r = await refusal(store, malformed)
            #expect(r?.status == .badRequest, "\(malformed)")
            #expect(r?.message.contains("expected <stream>_<n>") == true, "\(malformed)")
        }
        for unknown in ["0_0", "2_0", "1_2"] {
            let r = await refusal(store, unknown)
            #expect(r?.status == .notFound, "\(unknown)")
            #expect(r?.message.contains("streams 1 to 1") == true, "\(unknown)")
        }
        #expect(await store.listeners.count == 1, "refused ids open no stream")
    }

    func refusal(_ store: EventStore, _ id: String) async -> EventStore.Refusal? {
        if case .failure(let r) = await store.resume(after: id) { return r }
        return nil
    }

    @Test func bearerSchemeIsCaseInsensitive() {
        for header in ["Bearer abc", "bearer abc", "BEARER abc", "bEaReR  abc"] {
            #expect(MCPHTTPServer.bearerToken(header) == "abc", "\(header)")
        }
        for header in ["", "Bearer", "Bearer ", "bearerabc", "Basic abc", "Bearer-x abc", " Bearer abc"] {
            #expect(MCPHTTPServer.bearerToken(header) == nil, "\(header)")
        }
    }

    @Test func limitsAreChecked() {
        var c = config()
        c.openFileLimit = 1024
        #expect(c.problem() == nil)
        #expect(c.connectionCap == 256 && c.connectionCapNote == nil)
        c.openFileLimit = 128
        #expect(c.connectionCap == 48)
        #expect(c.connectionCapNote == "http: connection cap lowered to 48 (open-file limit 128)")
        c.maxConnections = 49
        #expect(
            c.problem()
                == "--max-connections 49 is out of range; expected 1 to 48 (what the open-file limit 128 leaves)")
        c.maxConnections = 0
        #expect(c.problem()?.hasPrefix("--max-connections 0 is out of range") == true)
        c.maxConnections = nil
        c.openFileLimit = 80
        #expect(c.problem()?.contains("open-file limit 80 is too low") == true)
        c.openFileLimit = Int.max
        for t in [0, 0.5, 3601, -1, .nan] {
            c.readTimeout = t
            #expect(c.problem()?.hasPrefix("--read-timeout") == true, "\(t)")
        }
        c.readTimeout = 30
        for n in [0, -1, 100_001] {
            c.maxSessions = n
            #expect(c.problem()?.hasPrefix("--max-sessions \(n) is out of range") == true)
        }
    }

    @Test func sessionsAreCapped() async {
        var c = config()
        c.maxSessions = 2
        let sessions = HTTPSessions(config: c)
        guard case .created = await sessions.create(), case .created(let second) = await sessions.create() else {
            Issue.record("expected two sessions")
            return
        }
        guard case .full(2) = await sessions.create() else {
            Issue.record("expected the cap")
            return
        }
        _ = await sessions.remove(second.id)
        guard case .created = await sessions.create() else {
            Issue.record("expected a session once one ended")
            return
        }
        #expect(await sessions.closeAll() == 2)
        guard case .shuttingDown = await sessions.create() else {
            Issue.record("expected no session after closeAll")
            return
        }
    }

    @Test func idleSessionsExpire() async {
        var c = config()
        c.idleTimeout = 60
        let sessions = HTTPSessions(config: c)
        guard case .created(let s) = await sessions.create() else {
            Issue.record("expected a session")
            return
        }
        #expect(s.id.count == 32)
        #expect(await sessions.expireIdle() == 0)
        #expect(await sessions.expireIdle(now: .init(timeIntervalSinceNow: 61)) == 1)
        #expect(await sessions.get(s.id) == nil)
    }
}
