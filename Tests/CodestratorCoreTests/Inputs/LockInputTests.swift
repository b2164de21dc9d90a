import Testing

@testable import CodestratorCore

/// `lock.*` inputs: the registry's defaults arrive, given values are kept, a missing required value is
/// `invalid_params` naming the field.
@Suite struct LockInputTests {
    @Test func acquireGetsTheDefaultTtl() throws {
        let input = try LockAcquireInput(
            InputTesting.validated("lock.acquire", ["scope_type": "file", "scope_path": "a.txt"]))
        #expect(input == LockAcquireInput(scopeType: "file", scopePath: "a.txt", ttlSeconds: 600))
        let given = try LockAcquireInput(
            InputTesting.validated(
                "lock.acquire",
                [
                    "scope_type": "prefix", "scope_path": "Sources", "ttl_seconds": 30, "owner_session": "session:3",
                    "session_id": 2, "reason": "r",
                ]))
        #expect(
            given
                == LockAcquireInput(
                    scopeType: "prefix", scopePath: "Sources", ownerSession: "session:3", ttlSeconds: 30, sessionId: 2,
                    reason: "r"))
    }

    @Test func aMissingScopeOrLockIdIsNamed() {
        #expect(InputTesting.missingField { try LockAcquireInput(Params(values: ["scope_path": "a"])) } == "scope_type")
        #expect(
            InputTesting.missingField { try LockAcquireInput(Params(values: ["scope_type": "file"])) } == "scope_path")
        #expect(InputTesting.missingField { try LockHeartbeatInput(Params()) } == "lock_id")
        #expect(InputTesting.missingField { try LockReleaseInput(Params()) } == "lock_id")
    }

    @Test func heartbeatKeepsTheLocksTtlUnlessGiven() throws {
        let input = try LockHeartbeatInput(InputTesting.validated("lock.heartbeat", ["lock_id": 5]))
        #expect(input == LockHeartbeatInput(lockId: 5))
        let given = try LockHeartbeatInput(InputTesting.validated("lock.heartbeat", ["lock_id": 5, "ttl_seconds": 20]))
        #expect(given.ttlSeconds == 20)
    }

    @Test func releaseIsNotForcedByDefault() throws {
        let input = try LockReleaseInput(InputTesting.validated("lock.release", ["lock_id": 5]))
        #expect(input == LockReleaseInput(lockId: 5, force: false))
        #expect(try LockReleaseInput(InputTesting.validated("lock.release", ["lock_id": 5, "force": true])).force)
    }

    @Test func listShowsActiveLocksOnAFirstPage() throws {
        let input = LockListInput(try InputTesting.validated("lock.list"))
        #expect(input == LockListInput(state: "active", page: ListPage(limit: 100, offset: 0)))
        let given = LockListInput(
            try InputTesting.validated("lock.list", ["state": "all", "path": "Sources", "limit": 2, "offset": 4]))
        #expect(given == LockListInput(state: "all", path: "Sources", page: ListPage(limit: 2, offset: 4)))
    }

    /// `ListPage`'s constants are the defaults `CommonParams.list` declares for every list method.
    @Test func theListPageDefaultsAreTheRegistrys() throws {
        for method in ["lock.list", "inbox.list", "session.list"] {
            #expect(ListPage(try InputTesting.validated(method)) == ListPage())
        }
        #expect(ListPage() == ListPage(limit: 100, offset: 0))
    }
}
