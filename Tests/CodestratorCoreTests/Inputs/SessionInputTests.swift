import Testing

@testable import CodestratorCore

/// `session.*` inputs: the registry's defaults arrive and given values are kept.
@Suite struct SessionInputTests {
    @Test func openGetsTheRegistryDefaults() throws {
        let input = SessionOpenInput(try InputTesting.validated("session.open"))
        #expect(input == SessionOpenInput(intent: .auto, alwaysBranch: true, agentRole: .codex))
        #expect(input.heartbeatTimeoutSeconds == 60)
        #expect(input.maxConcurrentChildren == 6)
        #expect(input.owner == nil)
        #expect(input.terminalFingerprint == nil)
        #expect(!input.hasSlugSource)
    }

    @Test func openTakesWhatTheCallerGave() throws {
        let input = SessionOpenInput(
            try InputTesting.validated(
                "session.open",
                [
                    "intent": "resume_work", "user_request": "fix login", "worktree_name": "login",
                    "always_branch": false, "base_ref": "dev", "agent_role": "claude_code", "owner": "ann",
                    "terminal_fingerprint": "tty1", "heartbeat_timeout_seconds": 30, "max_concurrent_children": 2,
                    "resume_session_id": 7, "requester_session_id": 8,
                ]))
        var expected = SessionOpenInput(
            intent: .resumeWork, userRequest: "fix login", worktreeName: "login", alwaysBranch: false,
            baseRef: "dev", agentRole: .claudeCode)
        (expected.owner, expected.terminalFingerprint) = ("ann", "tty1")
        (expected.heartbeatTimeoutSeconds, expected.maxConcurrentChildren) = (30, 2)
        (expected.resumeSessionId, expected.requesterSessionId) = (7, 8)
        #expect(input == expected)
        #expect(input.hasSlugSource)
    }

    @Test func listShowsOpenSessionsOnAFirstPage() throws {
        #expect(
            SessionListInput(try InputTesting.validated("session.list"))
                == SessionListInput(status: "open", page: ListPage(limit: 100, offset: 0)))
        #expect(
            SessionListInput(try InputTesting.validated("session.list", ["status": "all", "offset": 3]))
                == SessionListInput(status: "all", page: ListPage(offset: 3)))
    }
}
