import CodestratorCore

/// orch_graph (docs/methods.md#orch_graph--codestrator-planning-graph).
enum GraphMethods {
    static let identifier = ParamKind.name(maxChars: 40)
    static let text = ParamKind.text(maxBytes: 65_536)
    static let files = ParamSpec(
        "affected_files", .array(.path, maxCount: 200), doc: "repository paths; normalised, de-duplicated")
    static let allStatuses = ["todo", "in_progress", "in_review", "blocked", "done", "cancelled"]

    static let all: [MethodDefinition] = [
        method(
            "graph.node.create", .graph, "Create a planning graph node", roles: "P",
            params: [
                ParamSpec(
                    "node_type", identifier, required: true,
                    doc: "identifier [a-z][a-z0-9_-]{0,39}; initiative, plan, slice, milestone, risk, note"),
                ParamSpec("title", .title(maxChars: 300), required: true),
                ParamSpec(
                    "facet", identifier, default: .string(GraphNodeCreateInput.facetDefault), doc: "identifier"),
                ParamSpec(
                    "status", .enumeration(GraphNodeStatus.creatable.map(\.rawValue)),
                    default: .string(GraphNodeCreateInput.statusDefault.rawValue),
                    doc: "in_review only through plan.rollup.submit"),
                ParamSpec("priority", .int(min: -1000, max: 1000), default: .int(GraphNodeCreateInput.priorityDefault)),
                ParamSpec("parent_id", .id, doc: "an existing node"),
                ParamSpec("task_id", .id, doc: "links the node to a task"),
                ParamSpec("worktree_id", .id, doc: "an existing worktree (children: of their session)"),
                ParamSpec("owner_session_id", .id, doc: "an existing session (children: their own, the default)"),
                ParamSpec("summary", text),
                ParamSpec("risk_level", .int(min: 0, max: 5)),
                ParamSpec("token_estimate", .int(min: 0, max: 10_000_000)),
                files,
                ParamSpec(
                    "approval_state", .enumeration(["none"]), default: "none",
                    doc: "changes only through plan.rollup.*"),
            ]
        ) { env, p in try await GraphService(env: env).nodeCreate(GraphNodeCreateInput(p)) },
        method(
            "graph.node.list", .graph, "List graph nodes with filters", readOnly: true, roles: "VP",
            params: [
                ParamSpec("node_type", identifier), ParamSpec("facet", identifier),
                ParamSpec("status", .enumeration(allStatuses)), ParamSpec("parent_id", .id),
                ParamSpec("owner_session_id", .id),
                ParamSpec("approval_state", .enumeration(ApprovalState.allCases.map(\.rawValue))),
                ParamSpec("task_id", .id),
            ] + CommonParams.list
        ) { env, p in try await GraphService(env: env).nodeList(GraphNodeListInput(p)) },
        method(
            "graph.node.get", .graph, "A node with its edges, checklist, snapshots and children", readOnly: true,
            roles: "VP",
            params: [
                ParamSpec("node_id", .id, required: true),
                ParamSpec(
                    "snapshots_limit", .int(min: 0, max: 200), default: .int(GraphNodeGetInput.snapshotsLimitDefault),
                    doc: "newest first"),
            ]
        ) { env, p in try await GraphService(env: env).nodeGet(GraphNodeGetInput(p)) },
        method(
            "graph.edge.create", .graph, "Link two nodes; rejects duplicates and cycles", roles: "P",
            params: [
                ParamSpec("from_node_id", .id, required: true),
                ParamSpec("to_node_id", .id, required: true, doc: "another existing node"),
                ParamSpec(
                    "edge_type", .enumeration(GraphEdgeType.allCases.map(\.rawValue)), required: true,
                    doc: "A blocks B means B depends_on A; contains and the ordering must stay acyclic"),
            ]
        ) { env, p in try await GraphService(env: env).edgeCreate(GraphEdgeCreateInput(p)) },
        method(
            "graph.checklist.upsert", .graph, "Add or update a checklist item of a node", roles: "P",
            params: [
                ParamSpec("node_id", .id, required: true),
                ParamSpec("item_text", .title(maxChars: 1000), required: true),
                ParamSpec(
                    "status", .enumeration(["todo", "done", "skipped"]),
                    default: .string(GraphChecklistUpsertInput.statusDefault),
                    doc: "an update keeps the item's status unless given"),
                ParamSpec("order_no", .int(min: 1, max: 10_000), doc: "default: after the last item of the facet"),
                ParamSpec("facet", identifier, default: .string(GraphChecklistUpsertInput.facetDefault)),
            ]
        ) { env, p in try await GraphService(env: env).checklistUpsert(GraphChecklistUpsertInput(p)) },
        method(
            "graph.snapshot.create", .graph, "Record a snapshot note on a node", roles: "P",
            params: [
                ParamSpec("node_id", .id, required: true),
                ParamSpec(
                    "snapshot_type", identifier, required: true,
                    doc: "note, checkpoint, replan, rollup, approval, rejection"),
                ParamSpec("summary", text), files, ParamSpec("next_action", text),
            ]
        ) { env, p in try await GraphService(env: env).snapshotCreate(GraphSnapshotCreateInput(p)) },
    ]
}
