import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

@Suite struct PlanServiceTests {
    func bootstrap(_ h: Harness, session: Int? = nil) async throws -> (initiative: Int, plan: Int) {
        var p: JSONObject = ["initiative_title": "Login", "plan_title": "Plan A", "priority": 3, "summary": "why"]
        if let session { p["owner_session_id"] = .int(session) }
        let r = try await h.ok("plan.bootstrap", p)
        return (r["initiative"]!.id, r["plan"]!.id)
    }

    static func files(_ n: Int) -> JSON { .array((0..<n).map { JSON.string("src/f\($0).swift") }) }

    @Test func bootstrapCreatesInitiativePlanAndContainsEdge() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, _) = try await h.openSession()
        let epic = try await h.ok("task.create", ["level": "epic", "title": "Login", "session_id": .int(sid)])
        let r = try await h.ok(
            "plan.bootstrap",
            [
                "initiative_title": "Login", "plan_title": "Plan A", "owner_session_id": .int(sid),
                "task_id": .int(epic.id),
            ])
        #expect(r.objectValue?.keys == ["initiative", "plan", "edge"])
        #expect(r["initiative"]?["node_type"] == "initiative" && r["initiative"]?["status"] == "in_progress")
        #expect(r["initiative"]?["task_id"] == .int(epic.id))
        #expect(r["plan"]?["node_type"] == "plan" && r["plan"]?["status"] == "todo")
        #expect(r["plan"]?["parent_id"] == r["initiative"]?["id"])
        #expect(r["plan"]?["owner_session_id"] == .int(sid))
        #expect(r["edge"]?["edge_type"] == "contains")
        #expect(r["edge"]?["from_node_id"] == r["initiative"]?["id"] && r["edge"]?["to_node_id"] == r["plan"]?["id"])
        let feature = try await h.ok(
            "task.create", ["level": "feature", "title": "F", "parent_id": .int(epic.id)])
        let e = try await h.refused(
            "plan.bootstrap", ["initiative_title": "x", "plan_title": "y", "task_id": .int(feature.id)])
        #expect(e.code == .invalidParams)
        #expect(e.message.contains("expected the id of an epic"))
    }

    @Test func sliceGenerateCreatesSlicesContainsAndDependsOnEdgesAtomically() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, _) = try await h.openSession()
        let (_, plan) = try await bootstrap(h, session: sid)
        let r = try await h.ok(
            "plan.slice.generate",
            [
                "plan_node_id": .int(plan),
                "slice_specs": [
                    ["title": "api", "token_estimate": 9000, "affected_files": ["api/a.swift", "api//a.swift"]],
                    ["title": "db", "token_estimate": 18000, "affected_files": Self.files(12), "depends_on": [0]],
                    ["title": "ui", "priority": 4, "depends_on": [0, 1], "summary": "screens"],
                ],
            ])
        #expect(r.objectValue?.keys == ["plan_node_id", "slices", "edges", "rules", "warnings"])
        let slices = r["slices"]?.arrayValue ?? []
        #expect(slices.map { $0["title"] } == ["api", "db", "ui"])
        #expect(slices.allSatisfy { $0["node_type"] == "slice" && $0["status"] == "todo" })
        #expect(slices.allSatisfy { $0["parent_id"] == .int(plan) && $0["owner_session_id"] == .int(sid) })
        #expect(slices[0]["affected_files"] == ["api/a.swift"])
        let ids = slices.map(\.id)
        let edges = (r["edges"]?.arrayValue ?? []).map {
            "\($0["from_node_id"]!.intValue!)-\($0["edge_type"]!.stringValue!)-\($0["to_node_id"]!.intValue!)"
        }
        #expect(
            edges == [
                "\(plan)-contains-\(ids[0])", "\(plan)-contains-\(ids[1])", "\(plan)-contains-\(ids[2])",
                "\(ids[1])-depends_on-\(ids[0])", "\(ids[2])-depends_on-\(ids[0])", "\(ids[2])-depends_on-\(ids[1])",
            ])
        #expect(r["rules"] == ["max_token_per_slice": 18000, "max_files_per_slice": 12])
        #expect(r["warnings"] == ["slice 2 \"ui\" has no token_estimate"])
    }

    @Test func sliceGenerateReportsEveryViolationAtOnceAndWritesNothing() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (_, plan) = try await bootstrap(h)
        let specs: JSON = [
            ["title": "ok", "token_estimate": 100],
            ["title": "api", "token_estimate": 25000],
            ["title": "both", "token_estimate": 18001, "affected_files": Self.files(13)],
            ["title": "ui", "affected_files": Self.files(14)],
        ]
        let e = try await h.refused("plan.slice.generate", ["plan_node_id": .int(plan), "slice_specs": specs])
        #expect(e.code == .invalidParams)
        #expect(
            e.message
                == "plan.slice.generate: slices 1 \"api\" (token_estimate 25000), 2 \"both\" (token_estimate 18001, "
                + "13 files), 3 \"ui\" (14 files) exceed the planning rules; "
                + "expected ≤ 18000 tokens and ≤ 12 files per slice, or allow_oversize:true")
        // With allow_oversize the same slices are created, and the violations become warnings.
        let r = try await h.ok(
            "plan.slice.generate", ["plan_node_id": .int(plan), "slice_specs": specs, "allow_oversize": true])
        #expect(r["slices"]?.arrayValue?.count == 4)
        let warnings = r["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(warnings.count == 4)
        #expect(
            warnings.first
                == "slice 1 \"api\" (token_estimate 25000) exceeds the planning rules (≤ 18000 tokens and ≤ 12 files per slice)"
        )
        #expect(warnings.last == "slice 3 \"ui\" has no token_estimate")
    }

    @Test func sliceGenerateReadsTheRulesFromTheDatabase() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (_, plan) = try await bootstrap(h)
        try await h.env.store.write { tx in try tx.execute("UPDATE planning_rules SET max_files_per_slice = 2") }
        let e = try await h.refused(
            "plan.slice.generate",
            [
                "plan_node_id": .int(plan),
                "slice_specs": [["title": "a", "token_estimate": 1, "affected_files": Self.files(3)]],
            ])
        #expect(
            e.message.contains(
                "slice 0 \"a\" (3 files) exceeds the planning rules; expected ≤ 18000 tokens and ≤ 2 files"))
    }

    @Test func sliceGenerateRefusesBadSpecs() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (initiative, plan) = try await bootstrap(h)
        var e = try await h.refused(
            "plan.slice.generate",
            [
                "plan_node_id": .int(plan),
                "slice_specs": [
                    ["title": "a", "depends_on": [2]], ["title": "b", "depends_on": [0]],
                    ["title": "c", "depends_on": [1]],
                ],
            ])
        #expect(e.code == .invalidParams)
        #expect(e.message.contains("slice_specs depends_on forms the cycle 0 → 2 → 1 → 0"))
        e = try await h.refused(
            "plan.slice.generate", ["plan_node_id": .int(plan), "slice_specs": [["title": "a", "depends_on": [0]]]])
        #expect(e.message.contains("field \"slice_specs[0].depends_on\" names 0"))
        e = try await h.refused(
            "plan.slice.generate", ["plan_node_id": .int(plan), "slice_specs": [["summary": "no title"]]])
        #expect(e.message.hasPrefix("plan.slice.generate: field \"slice_specs[0].title\" is required"))
        e = try await h.refused("plan.slice.generate", ["plan_node_id": .int(plan), "slice_specs": []])
        #expect(e.code == .invalidParams)
        e = try await h.refused(
            "plan.slice.generate", ["plan_node_id": .int(initiative), "slice_specs": [["title": "a"]]])
        #expect(e.message.contains("expected the id of a node of type plan"))
        e = try await h.refused("plan.slice.generate", ["plan_node_id": 404, "slice_specs": [["title": "a"]]])
        #expect(e.code == .notFound)
        e = try await h.refused(
            "plan.slice.generate",
            ["plan_node_id": .int(plan), "slice_specs": [["title": "a"], ["title": "b", "task_id": 55]]])
        #expect(e.code == .notFound)
        #expect(e.message.contains("task 55 not found"))
    }

    @Test func replanRecordsASnapshotRechecksRulesAndUnblocks() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (_, plan) = try await bootstrap(h)
        let r = try await h.ok(
            "plan.slice.generate",
            ["plan_node_id": .int(plan), "slice_specs": [["title": "api", "token_estimate": 5000]]])
        let slice = r["slices"]![0]!.id
        let out = try await h.ok(
            "plan.slice.replan",
            [
                "node_id": .int(slice), "reason": "the API grew", "trigger": "scope_change", "token_estimate": 9000,
                "affected_files": ["api/x.swift"], "next_action": "split the client",
            ])
        #expect(
            out["snapshot_type"] == "replan" && out["summary"] == "the API grew" && out["trigger"] == "scope_change")
        #expect(out["next_action"] == "split the client" && out["affected_files"] == ["api/x.swift"])
        #expect(out["node"]?["token_estimate"] == 9000 && out["node"]?["affected_files"] == ["api/x.swift"])
        #expect(out.objectValue?.keys.last == "node")

        let e = try await h.refused(
            "plan.slice.replan", ["node_id": .int(slice), "reason": "more", "affected_files": Self.files(13)])
        #expect(e.code == .invalidParams)
        #expect(e.message.contains("(13 files) exceeds the planning rules"))
        let forced = try await h.ok(
            "plan.slice.replan",
            ["node_id": .int(slice), "reason": "more", "affected_files": Self.files(13), "allow_oversize": true])
        #expect(forced["node"]?["affected_files"]?.arrayValue?.count == 13)
        #expect(forced["warnings"]?.arrayValue?.count == 1)

        // A rejected roll-up: blocked / rejected → todo / none.
        try await h.ok("plan.rollup.submit", ["node_id": .int(slice)])
        try await h.ok("plan.rollup.reject", ["node_id": .int(slice), "reason": "too big"])
        let back = try await h.ok(
            "plan.slice.replan", ["node_id": .int(slice), "reason": "split", "trigger": "blocked"])
        #expect(back["node"]?["status"] == "todo" && back["node"]?["approval_state"] == "none")
        #expect(back["trigger"] == "blocked")

        let blank = try await h.refused("plan.slice.replan", ["node_id": .int(slice), "reason": "  \n"])
        #expect(blank.code == .invalidParams)
        let initiative = try await h.ok("graph.node.list", ["node_type": "initiative"])["nodes"]![0]!.id
        let wrongType = try await h.refused("plan.slice.replan", ["node_id": .int(initiative), "reason": "x"])
        #expect(wrongType.message.contains("expected the id of a slice or plan"))
    }

    @Test func rollupPreviewSubmitApproveAndReject() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (_, plan) = try await bootstrap(h)
        let r = try await h.ok(
            "plan.slice.generate",
            [
                "plan_node_id": .int(plan),
                "slice_specs": [["title": "a", "token_estimate": 1], ["title": "b", "token_estimate": 1]],
            ])
        let (a, b) = (r["slices"]![0]!.id, r["slices"]![1]!.id)

        let preview = try await h.ok("plan.rollup.preview", ["parent_node_id": .int(plan)])
        #expect(
            preview.objectValue?.keys == [
                "parent_node_id", "parent", "child_count", "status_counts", "children", "all_done",
            ])
        #expect(preview["child_count"] == 2 && preview["all_done"] == false)
        #expect(
            preview["status_counts"]
                == ["todo": 2, "in_progress": 0, "in_review": 0, "blocked": 0, "done": 0, "cancelled": 0])

        // Slices go through submit → approve; the plan's roll-up then shows all done.
        for s in [a, b] {
            let sub = try await h.ok("plan.rollup.submit", ["node_id": .int(s), "summary": "finished"])
            #expect(sub.objectValue?.keys == ["snapshot", "node", "preview"])
            #expect(sub["node"]?["status"] == "in_review" && sub["node"]?["approval_state"] == "pending")
            #expect(sub["snapshot"]?["snapshot_type"] == "rollup" && sub["snapshot"]?["summary"] == "finished")
            let ok = try await h.ok("plan.rollup.approve", ["node_id": .int(s), "reason": "good"])
            #expect(ok["status"] == "done" && ok["approval_state"] == "approved")
            #expect(ok["snapshot"]?["snapshot_type"] == "approval" && ok["snapshot"]?["summary"] == "good")
        }
        let done = try await h.ok("plan.rollup.preview", ["parent_node_id": .int(plan)])
        #expect(done["all_done"] == true && done["status_counts"]?["done"] == 2)
        let sub = try await h.ok("plan.rollup.submit", ["node_id": .int(plan)])
        #expect(sub["warnings"] == nil)
        #expect(sub["preview"]?["all_done"] == true)

        let rej = try await h.ok("plan.rollup.reject", ["node_id": .int(plan), "reason": "missing docs"])
        #expect(rej["status"] == "blocked" && rej["approval_state"] == "rejected")
        #expect(rej["snapshot"]?["snapshot_type"] == "rejection" && rej["snapshot"]?["summary"] == "missing docs")
        // Resubmitting a rejected node is allowed.
        let again = try await h.ok("plan.rollup.submit", ["node_id": .int(plan)])
        #expect(again["node"]?["status"] == "in_review" && again["node"]?["approval_state"] == "pending")
        let get = try await h.ok("graph.node.get", ["node_id": .int(plan)])
        #expect(
            get["snapshots"]?.arrayValue?.map { $0["snapshot_type"] } == ["rollup", "rejection", "rollup"])
    }

    @Test func rollupRefusalsChangeNothing() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (_, plan) = try await bootstrap(h)
        var e = try await h.refused("plan.rollup.approve", ["node_id": .int(plan)])
        #expect(e.code == .invalidState)
        #expect(
            e.message == "plan.rollup.approve: node \(plan) is todo; expected a node submitted with plan.rollup.submit")
        e = try await h.refused("plan.rollup.reject", ["node_id": .int(plan), "reason": "no"])
        #expect(
            e.message == "plan.rollup.reject: node \(plan) is todo; expected a node submitted with plan.rollup.submit")
        e = try await h.refused("plan.rollup.reject", ["node_id": .int(plan)])
        #expect(e.code == .invalidParams)
        e = try await h.refused("plan.rollup.approve", ["node_id": 999])
        #expect(e.code == .notFound)

        try await h.ok("plan.rollup.submit", ["node_id": .int(plan)])
        e = try await h.refused("plan.rollup.submit", ["node_id": .int(plan)])
        #expect(e.code == .invalidState)
        #expect(e.message.contains("has approval pending"))
        try await h.ok("plan.rollup.approve", ["node_id": .int(plan)])
        e = try await h.refused("plan.rollup.approve", ["node_id": .int(plan)])
        #expect(e.message.contains("node \(plan) is done"))
        e = try await h.refused("plan.rollup.submit", ["node_id": .int(plan)])
        #expect(e.code == .invalidState)
        let cancelled = try await h.ok(
            "graph.node.create", ["node_type": "slice", "title": "x", "status": "cancelled"])
        e = try await h.refused("plan.rollup.submit", ["node_id": .int(cancelled.id)])
        #expect(e.message.contains("node \(cancelled.id) is cancelled"))
    }

    @Test func planArchitectsPlanButOnlyTheRootApproves() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (s1, _) = try await h.openSession("fix login")
        let (s2, _) = try await h.openSession("add search")
        let architect = try await h.insertThread(session: s1, role: .planArchitect)
        let p = h.child(.planArchitect, thread: architect)
        let r = try await h.ok("plan.bootstrap", ["initiative_title": "I", "plan_title": "P"], as: p)
        #expect(r["plan"]?["owner_session_id"] == .int(s1))
        let plan = r["plan"]!.id
        let gen = try await h.ok(
            "plan.slice.generate", ["plan_node_id": .int(plan), "slice_specs": [["title": "a", "token_estimate": 5]]],
            as: p)
        #expect(gen["slices"]?[0]?["owner_session_id"] == .int(s1))
        let sub = try await h.ok("plan.rollup.submit", ["node_id": .int(plan)], as: p)
        #expect(sub["warnings"] == [.string("not all children of node \(plan) are done")])
        var e = try await h.refused("plan.rollup.approve", ["node_id": .int(plan)], as: p)
        #expect(e.code == .forbidden)
        e = try await h.refused("plan.rollup.reject", ["node_id": .int(plan), "reason": "x"], as: p)
        #expect(e.code == .forbidden)
        // Another session's plan is readable but not changeable.
        let (_, theirs) = try await bootstrap(h, session: s2)
        e = try await h.refused(
            "plan.slice.generate", ["plan_node_id": .int(theirs), "slice_specs": [["title": "a"]]], as: p)
        #expect(e.code == .forbidden)
        e = try await h.refused("plan.slice.replan", ["node_id": .int(theirs), "reason": "x"], as: p)
        #expect(e.code == .forbidden)
        #expect(try await h.ok("plan.rollup.preview", ["parent_node_id": .int(theirs)], as: p)["child_count"] == 0)
        e = try await h.refused(
            "plan.bootstrap", ["initiative_title": "I", "plan_title": "P", "owner_session_id": .int(s2)], as: p)
        #expect(e.code == .notFound)
    }
}
