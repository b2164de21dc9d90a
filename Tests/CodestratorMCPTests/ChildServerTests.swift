import Testing

@testable import CodestratorMCP

/// Which processes take a child's process settings (one malloc arena): a child's stdio server only.
@Suite struct ChildServerTests {
    @Test func childRolesOnTheCommandLineOrInTheEnvironment() {
        #expect(ChildServer.isChildServer(["codestrator", "serve", "--role", "worker", "--thread-id", "3"], role: nil))
        #expect(ChildServer.isChildServer(["/x/codestrator", "serve", "--role=merge-reviewer"], role: nil))
        #expect(ChildServer.isChildServer(["codestrator", "serve", "--repo", "/r"], role: "plan-architect"))
        // The flag wins over the environment, as in serverOptions.
        #expect(ChildServer.isChildServer(["codestrator", "serve", "--role", "worker"], role: "root"))
    }

    @Test func rootsOtherCommandsAndHTTPAreNotChildServers() {
        #expect(!ChildServer.isChildServer(["codestrator", "serve"], role: nil))
        #expect(!ChildServer.isChildServer(["codestrator", "serve", "--role", "root"], role: "worker"))
        #expect(!ChildServer.isChildServer(["codestrator", "serve"], role: "root"))
        #expect(!ChildServer.isChildServer(["codestrator", "call", "--role", "worker"], role: nil))
        #expect(!ChildServer.isChildServer(["codestrator", "serve", "--http", "--role", "worker"], role: nil))
        #expect(!ChildServer.isChildServer(["codestrator"], role: "worker"))
    }
}
