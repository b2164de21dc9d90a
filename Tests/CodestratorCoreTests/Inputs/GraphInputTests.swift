import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// The orch_graph inputs decoded from a call's validated parameters: the registry's defaults arrive, given
/// values are kept, and a missing required value is `invalid_params` naming the field, never 0 or "".
@Suite struct GraphInputTests {
    @Test func nodeCreateGetsTheRegistryDefaults() throws {
        let input = try GraphNodeCreateInput(
            InputTesting.validated("graph.node.create", ["node_type": "slice", "title": " t "]))
        #expect(input == GraphNodeCreateInput(nodeType: "slice", title: "t"))
        #expect(input.facet == "planning")
        #expect(input.status == .todo)
        #expect(input.priority == 0)
        let given = try GraphNodeCreateInput(
            InputTesting.validated(
                "graph.node.create",
                [
                    "node_type": "risk", "title": "t", "facet": "review", "status": "blocked", "priority": 7,
                    "owner_session_id": 2, "affected_files": ["a.swift"], "risk_level": 3,
                ]))
        #expect(given.facet == "review" && given.status == .blocked && given.priority == 7)
        #expect(given.ownerSessionId == 2 && given.affectedFiles == ["a.swift"] && given.riskLevel == 3)
        InputTesting.expectMissing("node_type") { try GraphNodeCreateInput(Params(values: ["title": "t"])) }
        InputTesting.expectMissing("title") { try GraphNodeCreateInput(Params(values: ["node_type": "slice"])) }
    }

    @Test func nodeListAndGetGetTheirDefaults() throws {
        let list = try GraphNodeListInput(InputTesting.validated("graph.node.list", ["facet": "planning"]))
        #expect(list.page == ListPage(limit: 100, offset: 0))
        #expect(list.columnFilters.map(\.0) == ["node_type", "facet", "status", "approval_state"])
        #expect(list.columnFilters.map(\.1) == [nil, "planning", nil, nil])

        let get = try GraphNodeGetInput(InputTesting.validated("graph.node.get", ["node_id": 5]))
        #expect(get == GraphNodeGetInput(nodeId: 5))
        #expect(get.snapshotsLimit == 20)
        #expect(
            try GraphNodeGetInput(InputTesting.validated("graph.node.get", ["node_id": 5, "snapshots_limit": 0]))
                .snapshotsLimit == 0
        )
        InputTesting.expectMissing("node_id") { try GraphNodeGetInput(Params()) }
    }

    @Test func edgeCreateTakesItsThreeRequiredValues() throws {
        let input = try GraphEdgeCreateInput(
            InputTesting.validated(
                "graph.edge.create", ["from_node_id": 1, "to_node_id": 2, "edge_type": "depends_on"]))
        #expect(input == GraphEdgeCreateInput(fromNodeId: 1, toNodeId: 2, edgeType: .dependsOn))
        InputTesting.expectMissing("from_node_id") { try GraphEdgeCreateInput(Params(values: ["to_node_id": 2])) }
        InputTesting.expectMissing("to_node_id") { try GraphEdgeCreateInput(Params(values: ["from_node_id": 1])) }
        InputTesting.expectMissing("edge_type") {
            try GraphEdgeCreateInput(Params(values: ["from_node_id": 1, "to_node_id": 2]))
        }
    }

    @Test func checklistUpsertLeavesAnOmittedStatusUnset() throws {
        let input = try GraphChecklistUpsertInput(
            InputTesting.validated("graph.checklist.upsert", ["node_id": 1, "item_text": "x"]))
        // The registry's default is for a new item; an update keeps the item's own status.
        #expect(input.status == nil)
        #expect(input.facet == "planning")
        #expect(input == GraphChecklistUpsertInput(nodeId: 1, itemText: "x"))
        let given = try GraphChecklistUpsertInput(
            InputTesting.validated(
                "graph.checklist.upsert", ["node_id": 1, "item_text": "x", "status": "done", "order_no": 3]))
        #expect(given.status == "done" && given.orderNo == 3)
        InputTesting.expectMissing("node_id") { try GraphChecklistUpsertInput(Params(values: ["item_text": "x"])) }
        InputTesting.expectMissing("item_text") { try GraphChecklistUpsertInput(Params(values: ["node_id": 1])) }
    }

    @Test func snapshotCreateTakesItsRequiredValues() throws {
        let input = try GraphSnapshotCreateInput(
            InputTesting.validated("graph.snapshot.create", ["node_id": 1, "snapshot_type": "note", "summary": "s"]))
        #expect(input.nodeId == 1 && input.snapshotType == "note" && input.summary == "s")
        #expect(input.affectedFiles == nil && input.nextAction == nil)
        InputTesting.expectMissing("snapshot_type") { try GraphSnapshotCreateInput(Params(values: ["node_id": 1])) }
        InputTesting.expectMissing("node_id") {
            try GraphSnapshotCreateInput(Params(values: ["snapshot_type": "note"]))
        }
    }
}
