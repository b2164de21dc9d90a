import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// task.list builds a page's roll-ups in two queries and resume.next picks its case with one query per
/// status; both must answer exactly what the per-task and sort-everything versions did.
@Suite struct TaskQueryTests {
    @Test func aPageCarriesTheSameRollupsAsEachTaskAlone() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, _) = try await h.openSession("rollups")
        let epic = try await h.ok("task.create", ["level": "epic", "title": "Shop", "session_id": .int(sid)])
        let epicId = try #require(epic["id"]?.intValue)
        var cases: [Int] = []
        for f in 0..<2 {
            let feature = try await h.ok(
                "task.create", ["level": "feature", "title": .string("feature \(f)"), "parent_id": .int(epicId)])
            let group = try await h.ok(
                "task.create",
                ["level": "testgroup", "title": "tests", "parent_id": .int(try #require(feature["id"]?.intValue))])
            for c in 0..<3 {
                let made = try await h.ok(
                    "task.create",
                    [
                        "level": "case", "title": .string("case \(f).\(c)"), "priority": .int(c),
                        "parent_id": .int(try #require(group["id"]?.intValue)), "steps": ["one", "two", "three"],
                    ])
                cases.append(try #require(made["id"]?.intValue))
            }
        }
        // Mixed statuses under one testgroup and mixed step results in one case.
        let begun = try await h.ok("case.begin", ["case_id": .int(cases[0])])
        let steps = try #require(begun["steps"]?.ids)
        try await h.ok("step.check", ["case_id": .int(cases[0]), "step_id": .int(steps[0]), "result": "ok"])
        try await h.ok(
            "step.check", ["case_id": .int(cases[0]), "step_id": .int(steps[1]), "status": "failed", "result": "no"])
        try await h.ok("task.update", ["task_id": .int(cases[1]), "status": "blocked", "reason": "waiting"])
        try await h.ok("task.update", ["task_id": .int(cases[2]), "status": "cancelled", "reason": "dropped"])

        let page = try await h.ok("task.list", ["session_id": .int(sid)])
        let tasks = try #require(page["tasks"]?.arrayValue)
        #expect(tasks.count == 11 && page["total"]?.intValue == 11)
        for t in tasks {
            let id = try #require(t["id"]?.intValue)
            let alone = try await h.ok("task.get", ["task_id": .int(id)])
            #expect(t["rollup"] == alone["rollup"], "rollup of task \(id)")
            #expect(t["steps_progress"] == alone["steps_progress"], "steps_progress of task \(id)")
        }
        let first = try #require(tasks.first { $0["id"]?.intValue == cases[0] })
        #expect(
            first["steps_progress"]
                == .obj(["total": 3, "todo": 1, "done": 1, "failed": 1, "skipped": 0]))
        let group = try #require(tasks.first { $0["level"]?.stringValue == "testgroup" && $0["status"] != "todo" })
        #expect(
            group["rollup"]
                == .obj(["total": 3, "todo": 0, "in_progress": 1, "blocked": 1, "done": 0, "cancelled": 1]))
        // A page of one, and task.get's children, go through the same path.
        let one = try await h.ok("task.list", ["session_id": .int(sid), "limit": 1, "offset": 1])
        #expect(one["tasks"]?.arrayValue?.count == 1 && one["total"]?.intValue == 11)
        let epicAlone = try await h.ok("task.get", ["task_id": .int(epicId)])
        #expect(epicAlone["children"]?.arrayValue?.compactMap { $0["rollup"]?["total"]?.intValue } == [1, 1])
    }

    @Test func resumeNextTakesInProgressThenBlockedThenTodoByPriorityThenId() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, root) = try await h.openSession("resume order")
        let epic = try await h.ok("task.create", ["level": "epic", "title": "E", "session_id": .int(sid)])
        let feature = try await h.ok(
            "task.create", ["level": "feature", "title": "F", "parent_id": .int(try #require(epic["id"]?.intValue))])
        let group = try await h.ok(
            "task.create",
            ["level": "testgroup", "title": "G", "parent_id": .int(try #require(feature["id"]?.intValue))])
        let gid = try #require(group["id"]?.intValue)
        var ids: [Int] = []
        for (n, priority) in [0, 5, 5, 1, 9].enumerated() {
            let made = try await h.ok(
                "task.create",
                [
                    "level": "case", "title": .string("c\(n)"), "priority": .int(priority), "parent_id": .int(gid),
                    "steps": ["s"],
                ])
            ids.append(try #require(made["id"]?.intValue))
        }
        func next(_ params: JSONObject = [:]) async throws -> Int? {
            var p = params
            p["session_id"] = .int(sid)
            return try await h.ok("resume.next", p)["task"]?["id"]?.intValue
        }
        #expect(try await next() == ids[4])  // todo, highest priority
        try await h.ok("task.update", ["task_id": .int(ids[4]), "status": "cancelled", "reason": "x"])
        #expect(try await next() == ids[1])  // priority 5 twice: the lower id
        try await h.ok("task.update", ["task_id": .int(ids[0]), "status": "blocked", "reason": "x"])
        try await h.ok("task.update", ["task_id": .int(ids[3]), "status": "blocked", "reason": "x"])
        #expect(try await next() == ids[3])  // blocked before todo, then by priority
        try await h.ok("case.begin", ["case_id": .int(ids[2])])
        #expect(try await next() == ids[2])  // in progress first
        // Scoped to the root thread: only the case it began; once that is done, nothing in scope.
        #expect(try await next(["thread_id": .int(root)]) == ids[2])
        try await h.ok("case.complete", ["case_id": .int(ids[2]), "force": true])
        #expect(try await next(["thread_id": .int(root)]) == nil)
        #expect(try await next() == ids[3])
        // A worker sees the cases assigned to it and those in its scope_case_ids.
        let worker = try await h.insertThread(session: sid, role: .worker)
        let scope = JSON.array([.int(ids[1])])
        try await h.env.store.write { tx in
            try tx.execute("UPDATE threads SET scope_case_ids = ? WHERE id = ?", [scope, worker])
        }
        #expect(try await next(["thread_id": .int(worker)]) == ids[1])
        try await h.ok("task.update", ["task_id": .int(ids[3]), "assignee_thread_id": .int(worker)])
        #expect(try await next(["thread_id": .int(worker)]) == ids[3])  // blocked before todo
    }
}
