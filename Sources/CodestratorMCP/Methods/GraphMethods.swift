import CodestratorCore

/// orch_graph (methods.md §3). Registered; built by a later issue (answers `not_implemented`).
enum GraphMethods {
    static let owner = "the planning-graph issue"
    static let all: [MethodDefinition] = [
        method("graph.node.create", .graph, "Create a planning graph node", roles: "P", ownedBy: owner),
        method("graph.node.list", .graph, "List graph nodes with filters", readOnly: true, roles: "VP", ownedBy: owner),
        method(
            "graph.node.get", .graph, "A node with its edges, checklist, snapshots and children", readOnly: true,
            roles: "VP", ownedBy: owner),
        method(
            "graph.edge.create", .graph, "Link two nodes; rejects duplicates and cycles", roles: "P", ownedBy: owner),
        method(
            "graph.checklist.upsert", .graph, "Add or update a checklist item of a node", roles: "P", ownedBy: owner),
        method("graph.snapshot.create", .graph, "Record a snapshot note on a node", roles: "P", ownedBy: owner),
    ]
}
