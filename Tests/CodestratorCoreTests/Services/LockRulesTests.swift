import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore

/// Path locks (docs/methods.md#orch_workspace--codestrator-worktrees-and-locks) on a fixed clock: overlap
/// between owners, re-entry, leases that lapse, heartbeats, and who may release. No git runs.
@Suite struct LockRulesTests {
    static func acquire(_ env: ServiceEnvironment, _ owner: String?, _ type: String, _ path: String, ttl: Int = 60)
        async throws -> JSON
    {
        try await LockService(env: env).acquire(
            LockAcquireInput(scopeType: type, scopePath: path, ownerSession: owner, ttlSeconds: ttl))
    }

    @Test func overlappingPathsOfAnotherOwnerConflictAndOthersDoNot() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        _ = try await Self.acquire(w.env, "session:a", "prefix", "Sources/App")

        #expect(
            await errorCode { try await Self.acquire(w.env, "session:b", "file", "Sources/App/main.swift") }
                == .conflict)
        #expect(await errorCode { try await Self.acquire(w.env, "session:b", "prefix", "Sources") } == .conflict)
        #expect(try await Self.acquire(w.env, "session:b", "prefix", "Sources/AppKit")["owner_session"] == "session:b")
        #expect(try await Self.acquire(w.env, "session:b", "file", "docs/a.md")["reentered"] == false)
    }

    @Test func theOwnerReentersAndExtendsItsLease() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let first = try await Self.acquire(w.env, "session:a", "file", "a.txt", ttl: 60)
        w.clock.advance(by: 30)
        let again = try await Self.acquire(w.env, "session:a", "file", "a.txt", ttl: 60)
        #expect(again["reentered"] == true)
        #expect(again["id"] == first["id"])
        let a = try #require(first["lease_until"]?.stringValue)
        let b = try #require(again["lease_until"]?.stringValue)
        #expect(b > a)
    }

    @Test func aLapsedLeaseFreesThePathAndCannotBeHeartbeated() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let held = try await Self.acquire(w.env, "session:a", "file", "a.txt", ttl: 60)
        let id = try #require(held["id"]?.intValue)

        w.clock.advance(by: 59)
        let beat = try await LockService(env: w.env).heartbeat(
            LockHeartbeatInput(lockId: id, ownerSession: "session:a"))
        #expect(beat["lease_until"] != held["lease_until"])
        w.clock.advance(by: 61)
        #expect(try await Self.acquire(w.env, "session:b", "file", "a.txt")["owner_session"] == "session:b")
        #expect(
            await errorCode {
                try await LockService(env: w.env).heartbeat(LockHeartbeatInput(lockId: id, ownerSession: "session:a"))
            } == .invalidState)
    }

    @Test func onlyTheOwnerReleasesUnlessTheRootForces() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let held = try await Self.acquire(w.env, "session:a", "file", "a.txt")
        let id = try #require(held["id"]?.intValue)
        let release: (String, Bool) async throws -> JSON = { owner, force in
            try await LockService(env: w.env).release(LockReleaseInput(lockId: id, ownerSession: owner, force: force))
        }

        #expect(await errorCode { try await release("session:b", false) } != nil)
        #expect(try await release("session:b", true)["state"] == "released")
        #expect(await errorCode { try await release("session:a", false) } == .invalidState)
    }

    @Test func aChildLocksAsItsThreadAndNoOtherName() async throws {
        let w = try UnitWorld()
        defer { w.cleanup() }
        let (sid, _) = try await w.openSession()
        let out = try await ThreadService(env: w.env).spawn(SpawnSagaTests.params(sid, ["launch_codex": false]))
        let tid = try #require(out["thread"]?["id"]?.intValue)
        let child = try await w.child(.worker, thread: tid)

        #expect(try await Self.acquire(child, nil, "file", "a.txt")["owner_session"] == .string("thread:\(tid)"))
        #expect(await errorCode { try await Self.acquire(child, "session:a", "file", "b.txt") } == .forbidden)
    }
}
