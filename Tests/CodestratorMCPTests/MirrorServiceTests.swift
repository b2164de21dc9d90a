import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

@Suite struct MirrorServiceTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/mirror_expected.md")

    /// Two sessions (the second closed), a task tree with every step mark, a worker, locks, a merge
    /// queue with an approved head under the main merge lock, and a blocked item.
    func buildFixtureState(_ h: Harness) async throws {
        let (sid, _) = try await h.openSession("fix login")
        let (closed, _) = try await h.openSession("add search")
        let search = try await h.ok(
            "task.create", ["level": "epic", "title": "Search", "session_id": .int(sid), "priority": 5])
        _ = search
        let epic = try await h.ok("task.create", ["level": "epic", "title": "Login", "session_id": .int(sid)]).id
        let feature = try await h.ok("task.create", ["level": "feature", "title": "Form", "parent_id": .int(epic)]).id
        let group = try await h.ok(
            "task.create", ["level": "testgroup", "title": "Validation", "parent_id": .int(feature)]
        ).id
        let worker = try await h.insertThread(session: sid, role: .worker, status: .idle)
        let c1 = try await h.ok(
            "task.create",
            [
                "level": "case", "title": "Rejects empty password", "parent_id": .int(group),
                "steps": ["write test", "implement", "update docs"], "assignee_thread_id": .int(worker),
            ]
        ).id
        let c2 = try await h.ok(
            "task.create", ["level": "case", "title": "Shows error", "parent_id": .int(group), "steps": ["render"]]
        ).id
        let c3 = try await h.ok("task.create", ["level": "case", "title": "Dropped", "parent_id": .int(group)]).id
        try await h.ok("task.update", ["task_id": .int(c3), "status": "cancelled", "reason": "out of scope"])
        try await h.ok("case.begin", ["case_id": .int(c2)])
        try await h.ok("step.check", ["case_id": .int(c2), "step_title": "render", "result": "ok"])
        try await h.ok("case.complete", ["case_id": .int(c2)])
        try await h.ok("case.begin", ["case_id": .int(c1)])
        try await h.ok("step.check", ["case_id": .int(c1), "step_title": "write test", "result": "ok"])
        try await h.ok(
            "step.check", ["case_id": .int(c1), "step_title": "implement", "result": "no", "status": "failed"])
        try await h.ok(
            "step.check", ["case_id": .int(c1), "step_title": "update docs", "result": "-", "status": "skipped"])
        try await h.env.store.write { tx in
            let wt = try tx.int("SELECT session_root_worktree_id FROM sessions WHERE id = ?", [sid])!
            for (state, path) in [("active", "src/login"), ("released", "src/old"), ("active", "a|b.swift")] {
                try tx.insert(
                    """
                    INSERT INTO locks (scope_type, scope_path, owner_session, session_id, thread_id, state, ttl_seconds,
                      acquired_at, heartbeat_at, lease_until)
                    VALUES ('prefix', ?, 'worker-1', ?, ?, ?, 600, ?, ?, ?)
                    """, [path, sid, worker, state, tx.now, tx.now, tx.now])
            }
            let mr = try tx.insert(
                """
                INSERT INTO merge_requests (session_id, worktree_id, status, created_at, updated_at)
                VALUES (?, ?, 'approved', ?, ?)
                """, [sid, wt, tx.now, tx.now])
            let blocked = try tx.insert(
                """
                INSERT INTO merge_main_queue (session_id, from_worktree_id, source_branch, target_branch,
                  merge_request_id, auto_review, state, created_at, updated_at)
                VALUES (?, ?, 'codestrator/fix-login', 'main', ?, 1, 'blocked', ?, ?)
                """, [sid, wt, mr, tx.now, tx.now])
            let item = try tx.insert(
                """
                INSERT INTO merge_main_queue (session_id, from_worktree_id, source_branch, target_branch,
                  merge_request_id, auto_review, state, created_at, updated_at)
                VALUES (?, ?, 'codestrator/fix-login', 'main', ?, 1, 'approved', ?, ?)
                """, [sid, wt, mr, tx.now, tx.now])
            let job = try tx.insert(
                """
                INSERT INTO review_jobs (merge_request_id, session_id, queue_item_id, state, verdict, reviewed_commit,
                  created_at, updated_at)
                VALUES (?, ?, ?, 'completed', 'APPROVE', 'abc', ?, ?)
                """, [mr, sid, item, tx.now, tx.now])
            try tx.execute("UPDATE merge_main_queue SET review_job_id = ? WHERE id = ?", [job, item])
            _ = blocked
            try tx.execute(
                "UPDATE merge_main_lock SET state = 'locked', holder_session_id = ?, queue_item_id = ? WHERE id = 1",
                [sid, item])
            try tx.execute("UPDATE sessions SET status = 'closed', closed_at = ? WHERE id = ?", [tx.now, closed])
            tx.bumpVersion()
        }
    }

    @Test func mirrorOfAFixtureStateMatchesTheExpectedMarkdown() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        try await buildFixtureState(h)
        let before = try await h.ok("mirror.status")
        #expect(
            before.objectValue?.keys == [
                "db_version", "md_version", "md_path", "outdated", "exists", "refreshed_at", "updated_at",
            ])
        #expect(before["outdated"] == true && before["exists"] == false && before["md_path"] == .null)
        let r = try await h.ok("mirror.refresh")
        #expect(r.objectValue?.keys == ["outdated_before_refresh", "mirror_status", "path", "written", "bytes"])
        #expect(r["outdated_before_refresh"] == true && r["written"] == true)
        let status = try #require(r["mirror_status"])
        #expect(status["outdated"] == false && status["exists"] == true)
        #expect(status["md_version"] == before["db_version"])
        #expect(status["md_path"] == ".codestrator/mirror/STATE.md")
        let path = try #require(r["path"]?.stringValue)
        #expect(path == h.repo + "/.codestrator/mirror/STATE.md")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(r["bytes"] == .int(text.utf8.count))
        // The database version is the one varying line; the fixture holds it as <n>.
        let version = try #require(before["db_version"]?.intValue)
        let normalised = text.replacingOccurrences(of: "Database version \(version).", with: "Database version <n>.")
        if !FileManager.default.fileExists(atPath: Self.fixture.path) {
            try normalised.write(to: Self.fixture, atomically: true, encoding: .utf8)
            Issue.record("wrote the missing fixture \(Self.fixture.path); review and commit it")
        }
        let expected = try String(contentsOf: Self.fixture, encoding: .utf8)
        #expect(normalised == expected)
        // md_sha256 is the digest of the bytes written.
        let sha = try await h.env.store.read { tx in try tx.string("SELECT md_sha256 FROM meta") }
        #expect(sha == SHA256Digest.hex(Data(text.utf8)))
    }

    @Test func refreshingWithoutChangesWritesNothing() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        _ = try await h.openSession()
        let first = try await h.ok("mirror.refresh")
        #expect(first["written"] == true)
        let path = try #require(first["path"]?.stringValue)
        let statBefore = try FileManager.default.attributesOfItem(atPath: path)
        let metaBefore = try await h.env.store.read { tx in try tx.row("SELECT * FROM meta")!.string("updated_at") }
        try await Task.sleep(for: .milliseconds(20))
        let second = try await h.ok("mirror.refresh")
        #expect(second["written"] == false && second["outdated_before_refresh"] == false)
        #expect(second["bytes"] == first["bytes"])
        let statAfter = try FileManager.default.attributesOfItem(atPath: path)
        #expect(statAfter[.systemFileNumber] as? Int == statBefore[.systemFileNumber] as? Int)
        #expect(statAfter[.modificationDate] as? Date == statBefore[.modificationDate] as? Date)
        let metaAfter = try await h.env.store.read { tx in try tx.row("SELECT * FROM meta")!.string("updated_at") }
        #expect(metaAfter == metaBefore)
        #expect(second["mirror_status"] == first["mirror_status"])
        // No temporary file is left next to the mirror.
        let dir = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["STATE.md"])

        // A change makes it outdated; the next refresh replaces the file by a rename.
        try await h.ok("graph.node.create", ["node_type": "note", "title": "n"])
        let status = try await h.ok("mirror.status")
        #expect(status["outdated"] == true)
        #expect(status["db_version"] != status["md_version"])
        let third = try await h.ok("mirror.refresh")
        #expect(third["written"] == true && third["outdated_before_refresh"] == true)
        let statThird = try FileManager.default.attributesOfItem(atPath: path)
        #expect(statThird[.systemFileNumber] as? Int != statBefore[.systemFileNumber] as? Int)
        #expect(third["mirror_status"]?["outdated"] == false)
    }

    @Test func refreshChecksTargetPathAndRequesterRole() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, _) = try await h.openSession()
        for bad in ["../STATE.md", "STATE.txt", ".codestrator/mirror/sub/x.md", "docs/STATE.md", ".md", ".hidden.md"] {
            let e = try await h.refused("mirror.refresh", ["target_path": .string(bad)])
            #expect(e.code == .invalidParams, "\(bad)")
        }
        let e = try await h.refused("mirror.refresh", ["requester_role": "worker"])
        #expect(e.code == .forbidden)
        #expect(e.message.contains("this process has role root"))
        let named = try await h.ok("mirror.refresh", ["target_path": "notes.md", "requester_role": "root"])
        #expect(named["path"] == .string(h.repo + "/.codestrator/mirror/notes.md"))
        #expect(named["mirror_status"]?["md_path"] == ".codestrator/mirror/notes.md")
        let full = try await h.ok("mirror.refresh", ["target_path": .string(h.repo + "/.codestrator/mirror/notes.md")])
        #expect(full["written"] == false)

        // doc-mirror-manager refreshes; plan-architect reads the status only.
        let doc = try await h.insertThread(session: sid, role: .docMirrorManager)
        let d = h.child(.docMirrorManager, thread: doc)
        let byDoc = try await h.ok("mirror.refresh", ["requester_role": "doc-mirror-manager"], as: d)
        #expect(byDoc["written"] == true)
        let architect = try await h.insertThread(session: sid, role: .planArchitect)
        let p = h.child(.planArchitect, thread: architect)
        #expect(try await h.err("mirror.refresh", [:], as: p).code == .forbidden)
        #expect(try await h.ok("mirror.status", [:], as: p)["exists"] == true)
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(SHA256Digest.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        #expect(SHA256Digest.hex(Data("abc".utf8)) == abc)
        let long = Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256Digest.hex(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}

@Suite struct ChildRoleTests {
    @Test func aWorkerSeesItsToolsAndIsRefusedTheMergeQueue() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, _) = try await h.openSession()
        let worker = try await h.insertThread(session: sid, role: .worker)
        let w = h.child(.worker, thread: worker)
        let tools = w.toolsList()["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(tools == ["orch_task", "orch_workspace", "orch_lifecycle", "orch_inbox", "orchestrator_call"])
        let e = try await h.err("merge.main.request", [:], as: w)
        #expect(e.code == .forbidden)
        #expect(e.message.hasPrefix("merge.main.request: not allowed for role worker"))
        for m in ["graph.node.create", "plan.bootstrap", "mirror.refresh", "mirror.status"] {
            #expect(try await h.err(m, [:], as: w).code == .forbidden, "\(m)")
        }
        // Through the tool entry point as well.
        let viaTool = try await w.callTool(
            name: "orchestrator_call", arguments: ["method": "merge.main.request", "params": [:]])
        #expect(viaTool["isError"] == true)
        #expect(viaTool["structuredContent"]?["error"]?["code"] == "forbidden")
    }
}
