import CodestratorTesting
import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

@Suite struct GraphServiceTests {
    static let nodeFields = [
        "id", "node_type", "facet", "title", "status", "priority", "parent_id", "task_id", "worktree_id",
        "owner_session_id", "summary", "risk_level", "token_estimate", "affected_files", "approval_state",
        "created_at", "updated_at",
    ]

    func node(_ h: Harness, _ title: String, _ extra: JSONObject = [:]) async throws -> Int {
        var p: JSONObject = ["node_type": "slice", "title": .string(title)]
        for (k, v) in extra.pairs { p[k] = v }
        return try await h.ok("graph.node.create", p).id
    }

    @Test func nodeCreateReturnsEveryFieldInOrderAndNormalisesFiles() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, _) = try await h.openSession()
        let n = try await h.ok(
            "graph.node.create",
            [
                "node_type": "milestone", "title": "  Ship login  ", "priority": 5, "owner_session_id": .int(sid),
                "risk_level": 2, "token_estimate": 1200, "summary": "first cut",
                "affected_files": ["src//a.swift", "./src/a.swift", .string("\(h.repo)/docs/b.md")],
            ])
        #expect(n.objectValue?.keys == Self.nodeFields)
        #expect(n["title"] == "Ship login")
        #expect(n["status"] == "todo")
        #expect(n["facet"] == "planning")
        #expect(n["approval_state"] == "none")
        #expect(n["owner_session_id"] == .int(sid))
        #expect(n["affected_files"] == ["src/a.swift", "docs/b.md"])
        #expect(n["parent_id"] == .null)
        let v = try await h.state()["db_version"]
        #expect(v != "0")
    }

    @Test func nodeCreateRefusesBadInputWithoutWriting() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        _ = try await h.openSession()
        var e = try await h.refused("graph.node.create", ["node_type": "Slice", "title": "x"])
        #expect(e.code == .invalidParams)
        #expect(e.message.contains("identifier [a-z][a-z0-9_-]{0,39}"))
        e = try await h.refused("graph.node.create", ["node_type": "slice", "title": "x", "parent_id": 99])
        #expect(e.code == .notFound)
        #expect(e.message == "graph.node.create: node 99 not found; expected the id of an existing graph node")
        e = try await h.refused("graph.node.create", ["node_type": "slice", "title": "x", "owner_session_id": 42])
        #expect(e.code == .notFound)
        e = try await h.refused("graph.node.create", ["node_type": "slice", "title": "x", "status": "in_review"])
        #expect(e.code == .invalidParams)
        e = try await h.refused(
            "graph.node.create", ["node_type": "slice", "title": "x", "approval_state": "approved"])
        #expect(e.code == .invalidParams)
        e = try await h.refused("graph.node.create", ["node_type": "slice", "title": "x", "affected_files": ["../x"]])
        #expect(e.code == .invalidParams)
        e = try await h.refused("graph.node.create", ["node_type": "slice", "title": "x", "task_id": 7])
        #expect(e.code == .notFound)
    }

    @Test func nodeListFiltersOrdersAndPages() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (sid, _) = try await h.openSession()
        let a = try await node(h, "a", ["priority": 1])
        let b = try await node(h, "b", ["priority": 9, "parent_id": .int(a), "owner_session_id": .int(sid)])
        let c = try await node(h, "c", ["priority": 1, "node_type": "risk", "status": "blocked"])
        var r = try await h.ok("graph.node.list")
        #expect(r["nodes"]?.ids == [b, a, c])
        #expect(r["count"] == 3 && r["total"] == 3)
        r = try await h.ok("graph.node.list", ["limit": 1, "offset": 1])
        #expect(r["nodes"]?.ids == [a])
        #expect(r["count"] == 1 && r["total"] == 3)
        #expect(try await h.ok("graph.node.list", ["parent_id": .int(a)])["nodes"]?.ids == [b])
        #expect(try await h.ok("graph.node.list", ["node_type": "risk"])["nodes"]?.ids == [c])
        #expect(try await h.ok("graph.node.list", ["status": "blocked"])["nodes"]?.ids == [c])
        #expect(try await h.ok("graph.node.list", ["owner_session_id": .int(sid)])["nodes"]?.ids == [b])
        #expect(try await h.ok("graph.node.list", ["approval_state": "pending"])["total"] == 0)
        let e = try await h.err("graph.node.list", ["parent_id": 500])
        #expect(e.code == .notFound)
    }

    @Test func nodeGetShowsParentChildrenEdgesChecklistAndSnapshots() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let parent = try await node(h, "plan", ["node_type": "plan"])
        let n = try await node(h, "api", ["parent_id": .int(parent)])
        let kid = try await node(h, "sub", ["parent_id": .int(n)])
        let other = try await node(h, "db")
        let e1 = try await h.ok(
            "graph.edge.create", ["from_node_id": .int(parent), "to_node_id": .int(n), "edge_type": "contains"])
        let e2 = try await h.ok(
            "graph.edge.create", ["from_node_id": .int(n), "to_node_id": .int(other), "edge_type": "depends_on"])
        try await h.ok("graph.checklist.upsert", ["node_id": .int(n), "item_text": "b item", "facet": "review"])
        try await h.ok("graph.checklist.upsert", ["node_id": .int(n), "item_text": "first"])
        try await h.ok("graph.checklist.upsert", ["node_id": .int(n), "item_text": "second"])
        let s1 = try await h.ok(
            "graph.snapshot.create", ["node_id": .int(n), "snapshot_type": "note", "summary": "one"])
        let s2 = try await h.ok("graph.snapshot.create", ["node_id": .int(n), "snapshot_type": "checkpoint"])
        let g = try await h.ok("graph.node.get", ["node_id": .int(n)])
        #expect(
            g.objectValue?.keys == ["node", "parent", "children", "outgoing", "incoming", "checklist", "snapshots"])
        #expect(g["node"]?.id == n)
        #expect(g["parent"]?.id == parent)
        #expect(g["children"]?.ids == [kid])
        #expect(g["outgoing"]?.ids == [e2.id])
        #expect(g["incoming"]?.ids == [e1.id])
        let checklist = g["checklist"]?.arrayValue ?? []
        #expect(checklist.map { $0["item_text"] } == ["first", "second", "b item"])
        #expect(checklist.map { $0["facet"] } == ["planning", "planning", "review"])
        #expect(g["snapshots"]?.ids == [s2.id, s1.id])
        let limited = try await h.ok("graph.node.get", ["node_id": .int(n), "snapshots_limit": 1])
        #expect(limited["snapshots"]?.ids == [s2.id])
        let top = try await h.ok("graph.node.get", ["node_id": .int(parent)])
        #expect(top["parent"] == .null)
        let e = try await h.err("graph.node.get", ["node_id": 999])
        #expect(e.message == "graph.node.get: node 999 not found; expected the id of an existing graph node")
    }

    @Test func edgeCreateRefusesUnknownNodesSelfEdgesAndDuplicates() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let a = try await node(h, "a")
        let b = try await node(h, "b")
        let edge = try await h.ok(
            "graph.edge.create", ["from_node_id": .int(a), "to_node_id": .int(b), "edge_type": "relates_to"])
        #expect(edge.objectValue?.keys == ["id", "from_node_id", "to_node_id", "edge_type", "created_at"])
        #expect(edge["from_node_id"] == .int(a) && edge["to_node_id"] == .int(b) && edge["edge_type"] == "relates_to")

        var e = try await h.refused(
            "graph.edge.create", ["from_node_id": .int(a), "to_node_id": 77, "edge_type": "contains"])
        #expect(e.code == .notFound)
        #expect(e.message.contains("node 77 not found"))
        e = try await h.refused(
            "graph.edge.create", ["from_node_id": 76, "to_node_id": .int(a), "edge_type": "contains"])
        #expect(e.code == .notFound)
        e = try await h.refused(
            "graph.edge.create", ["from_node_id": .int(a), "to_node_id": .int(a), "edge_type": "blocks"])
        #expect(e.code == .invalidParams)
        #expect(e.message.contains("no self edges"))
        e = try await h.refused(
            "graph.edge.create", ["from_node_id": .int(a), "to_node_id": .int(b), "edge_type": "relates_to"])
        #expect(e.code == .conflict)
        #expect(
            e.message
                == "graph.edge.create: edge \(edge.id) (\(a) → \(b) relates_to) already exists; "
                + "expected a (from_node_id, to_node_id, edge_type) not linked yet")
        // relates_to is never a cycle; the same pair with another type is a new edge.
        try await h.ok(
            "graph.edge.create", ["from_node_id": .int(b), "to_node_id": .int(a), "edge_type": "relates_to"])
        try await h.ok(
            "graph.edge.create", ["from_node_id": .int(a), "to_node_id": .int(b), "edge_type": "depends_on"])
    }

    @Test func containsEdgesMayNotCloseACycle() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let a = try await node(h, "a")
        let b = try await node(h, "b")
        let c = try await node(h, "c")
        for (x, y) in [(a, b), (b, c)] {
            try await h.ok(
                "graph.edge.create", ["from_node_id": .int(x), "to_node_id": .int(y), "edge_type": "contains"])
        }
        let e = try await h.refused(
            "graph.edge.create", ["from_node_id": .int(c), "to_node_id": .int(a), "edge_type": "contains"])
        #expect(e.code == .invalidState)
        #expect(
            e.message
                == "graph.edge.create: contains edge \(c) → \(a) would close the cycle \(c) → \(a) → \(b) → \(c); "
                + "expected contains edges that form no cycle")
        // The ordering relation is separate: c depends_on a is fine.
        try await h.ok(
            "graph.edge.create", ["from_node_id": .int(c), "to_node_id": .int(a), "edge_type": "depends_on"])
    }

    @Test func dependsOnAndBlocksFormOneOrderingWithoutCycles() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let a = try await node(h, "a")
        let b = try await node(h, "b")
        let c = try await node(h, "c")
        // a depends_on b; b blocks c (c depends_on b) — no cycle yet.
        try await h.ok(
            "graph.edge.create", ["from_node_id": .int(a), "to_node_id": .int(b), "edge_type": "depends_on"])
        try await h.ok("graph.edge.create", ["from_node_id": .int(b), "to_node_id": .int(c), "edge_type": "blocks"])
        // a blocks b means b depends_on a: with a depends_on b that is a two-node cycle.
        var e = try await h.refused(
            "graph.edge.create", ["from_node_id": .int(a), "to_node_id": .int(b), "edge_type": "blocks"])
        #expect(e.code == .invalidState)
        #expect(
            e.message.hasPrefix("graph.edge.create: blocks edge \(a) → \(b) would close the cycle \(a) → \(b) → \(a) "))
        #expect(e.message.hasSuffix("expected an ordering without cycles"))
        // b depends_on c, with c depends_on b (b blocks c).
        e = try await h.refused(
            "graph.edge.create", ["from_node_id": .int(b), "to_node_id": .int(c), "edge_type": "depends_on"])
        #expect(e.message.contains("would close the cycle \(b) → \(c) → \(b)"))
        // c blocks a = a depends_on c; a depends_on b, c depends_on b: still acyclic.
        try await h.ok("graph.edge.create", ["from_node_id": .int(c), "to_node_id": .int(a), "edge_type": "blocks"])
        // Now b → … : b depends_on a would close b → a → b (a depends_on b).
        e = try await h.refused(
            "graph.edge.create", ["from_node_id": .int(b), "to_node_id": .int(a), "edge_type": "depends_on"])
        #expect(e.message.contains("the cycle \(b) → \(a) → \(b)"))
        // A three-node cycle through both types: a blocks c = c depends_on a; c blocks a = a depends_on c.
        e = try await h.refused(
            "graph.edge.create", ["from_node_id": .int(a), "to_node_id": .int(c), "edge_type": "blocks"])
        #expect(e.message.contains("the cycle \(a) → \(c) → \(a)"))
    }

    @Test func checklistUpsertInsertsAppendsAndUpdates() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let n = try await node(h, "a")
        let first = try await h.ok("graph.checklist.upsert", ["node_id": .int(n), "item_text": "write tests"])
        #expect(
            first.objectValue?.keys == [
                "id", "node_id", "item_text", "status", "order_no", "facet", "created_at", "updated_at", "created",
            ])
        #expect(first["order_no"] == 1 && first["created"] == true && first["status"] == "todo")
        let second = try await h.ok(
            "graph.checklist.upsert", ["node_id": .int(n), "item_text": "docs", "status": "skipped"])
        #expect(second["order_no"] == 2 && second["status"] == "skipped")
        let updated = try await h.ok(
            "graph.checklist.upsert",
            ["node_id": .int(n), "item_text": "write more tests", "order_no": 1, "status": "done"])
        #expect(updated.id == first.id && updated["created"] == false)
        #expect(updated["item_text"] == "write more tests" && updated["status"] == "done")
        // Updating without a status keeps the one it has.
        let kept = try await h.ok("graph.checklist.upsert", ["node_id": .int(n), "item_text": "docs!", "order_no": 2])
        #expect(kept["status"] == "skipped" && kept["created"] == false)
        let other = try await h.ok("graph.checklist.upsert", ["node_id": .int(n), "item_text": "x", "facet": "qa"])
        #expect(other["order_no"] == 1 && other["facet"] == "qa")
        var e = try await h.refused("graph.checklist.upsert", ["node_id": 99, "item_text": "x"])
        #expect(e.code == .notFound)
        e = try await h.refused("graph.checklist.upsert", ["node_id": .int(n), "item_text": "   "])
        #expect(e.code == .invalidParams)
        e = try await h.refused("graph.checklist.upsert", ["node_id": .int(n), "item_text": "x", "order_no": 0])
        #expect(e.code == .invalidParams)
    }

    @Test func snapshotCreateRecordsANote() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let n = try await node(h, "a")
        let s = try await h.ok(
            "graph.snapshot.create",
            [
                "node_id": .int(n), "snapshot_type": "checkpoint", "summary": "half way",
                "affected_files": ["a.swift", "a.swift"], "next_action": "finish",
            ])
        #expect(
            s.objectValue?.keys == [
                "id", "node_id", "snapshot_type", "summary", "affected_files", "next_action", "trigger", "created_at",
            ])
        #expect(s["affected_files"] == ["a.swift"] && s["trigger"] == .null && s["summary"] == "half way")
        let e = try await h.refused("graph.snapshot.create", ["node_id": .int(n), "snapshot_type": "has space"])
        #expect(e.code == .invalidParams)
    }

    @Test func childrenReadEveryNodeButChangeOnlyTheirSessions() async throws {
        let h = try await Harness.make()
        defer { h.cleanup() }
        let (s1, _) = try await h.openSession("fix login")
        let (s2, _) = try await h.openSession("add search")
        let architect = try await h.insertThread(session: s1, role: .planArchitect)
        let p = h.child(.planArchitect, thread: architect)
        let foreign = try await node(h, "theirs", ["owner_session_id": .int(s2)])
        // Creating defaults the owner to the child's session; another session's id is not found.
        let mine = try await h.ok("graph.node.create", ["node_type": "note", "title": "mine"], as: p)
        #expect(mine["owner_session_id"] == .int(s1))
        var e = try await h.refused(
            "graph.node.create", ["node_type": "note", "title": "x", "owner_session_id": .int(s2)], as: p)
        #expect(e.code == .notFound)
        // Reads are repository-wide.
        #expect(try await h.ok("graph.node.get", ["node_id": .int(foreign)], as: p)["node"]?.id == foreign)
        #expect(try await h.ok("graph.node.list", [:], as: p)["total"] == 2)
        // Changes of another session's node are forbidden.
        e = try await h.refused("graph.checklist.upsert", ["node_id": .int(foreign), "item_text": "x"], as: p)
        #expect(e.code == .forbidden)
        #expect(e.message.contains("node \(foreign) belongs to session \(s2)"))
        e = try await h.refused("graph.snapshot.create", ["node_id": .int(foreign), "snapshot_type": "note"], as: p)
        #expect(e.code == .forbidden)
        e = try await h.refused(
            "graph.edge.create", ["from_node_id": .int(foreign), "to_node_id": mine["id"]!, "edge_type": "depends_on"],
            as: p)
        #expect(e.code == .forbidden)
        try await h.ok(
            "graph.edge.create", ["from_node_id": mine["id"]!, "to_node_id": .int(foreign), "edge_type": "depends_on"],
            as: p)
    }
}
