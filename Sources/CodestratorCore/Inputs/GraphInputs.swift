/// The typed inputs of orch_graph (docs/methods.md#orch_graph--codestrator-planning-graph): each decoded once
/// from the validated `Params` at the MCP edge (the registry has checked kinds and filled the defaults), or built
/// directly by a service. The defaults live here; the method registry declares them from these constants.

/// What `graph.node.create` takes. (`approval_state` is accepted only as `none`, which every new node has.)
public struct GraphNodeCreateInput: Sendable, Equatable {
    public static let facetDefault = "planning"
    public static let statusDefault = GraphNodeStatus.todo
    public static let priorityDefault = 0

    public var nodeType: String
    public var title: String
    public var facet = Self.facetDefault
    public var status = Self.statusDefault
    public var priority = Self.priorityDefault
    public var parentId: Int?
    public var taskId: Int?
    public var worktreeId: Int?
    /// A child's own session (its default); for the root, an existing session or none.
    public var ownerSessionId: Int?
    public var summary: String?
    public var riskLevel: Int?
    public var tokenEstimate: Int?
    public var affectedFiles: [String]?

    public init(nodeType: String, title: String) { (self.nodeType, self.title) = (nodeType, title) }

    public init(_ p: Params) throws {
        self.init(nodeType: try p.reqString("node_type"), title: try p.reqString("title"))
        facet = p.string("facet") ?? Self.facetDefault
        status = p.enumValue("status", GraphNodeStatus.self) ?? Self.statusDefault
        priority = p.int("priority") ?? Self.priorityDefault
        parentId = p.int("parent_id")
        taskId = p.int("task_id")
        worktreeId = p.int("worktree_id")
        ownerSessionId = p.int("owner_session_id")
        summary = p.string("summary")
        riskLevel = p.int("risk_level")
        tokenEstimate = p.int("token_estimate")
        affectedFiles = p.strings("affected_files")
    }
}

/// What `graph.node.list` takes: every filter names rows of any session.
public struct GraphNodeListInput: Sendable, Equatable {
    public var nodeType: String?
    public var facet: String?
    public var status: String?
    public var approvalState: String?
    public var parentId: Int?
    public var ownerSessionId: Int?
    public var taskId: Int?
    public var page: ListPage

    public init(page: ListPage = ListPage()) { self.page = page }

    public init(_ p: Params) {
        self.init(page: ListPage(p))
        nodeType = p.string("node_type")
        facet = p.string("facet")
        status = p.string("status")
        approvalState = p.string("approval_state")
        parentId = p.int("parent_id")
        ownerSessionId = p.int("owner_session_id")
        taskId = p.int("task_id")
    }

    /// The string filters as (column, value), in a fixed order.
    var columnFilters: [(String, String?)] {
        [("node_type", nodeType), ("facet", facet), ("status", status), ("approval_state", approvalState)]
    }
}

/// What `graph.node.get` takes.
public struct GraphNodeGetInput: Sendable, Equatable {
    public static let snapshotsLimitDefault = 20

    public var nodeId: Int
    /// Newest first.
    public var snapshotsLimit = Self.snapshotsLimitDefault

    public init(nodeId: Int) { self.nodeId = nodeId }

    public init(_ p: Params) throws {
        self.init(nodeId: try p.req("node_id"))
        snapshotsLimit = p.int("snapshots_limit") ?? Self.snapshotsLimitDefault
    }
}

/// What `graph.edge.create` takes.
public struct GraphEdgeCreateInput: Sendable, Equatable {
    public var fromNodeId: Int
    public var toNodeId: Int
    public var edgeType: GraphEdgeType

    public init(fromNodeId: Int, toNodeId: Int, edgeType: GraphEdgeType) {
        (self.fromNodeId, self.toNodeId, self.edgeType) = (fromNodeId, toNodeId, edgeType)
    }

    public init(_ p: Params) throws {
        let from = try p.req("from_node_id")
        let to = try p.req("to_node_id")
        guard let type = GraphEdgeType(rawValue: try p.reqString("edge_type")) else {
            throw CodestratorError(.invalidParams, "field \"edge_type\" is missing", expected: "an edge type")
        }
        self.init(fromNodeId: from, toNodeId: to, edgeType: type)
    }
}

/// What `graph.checklist.upsert` takes.
public struct GraphChecklistUpsertInput: Sendable, Equatable {
    /// The status of a new item given none.
    public static let statusDefault = "todo"
    public static let facetDefault = GraphNodeCreateInput.facetDefault

    public var nodeId: Int
    public var itemText: String
    /// As given: an update keeps the item's status unless one is given, so the default is not filled in here.
    public var status: String?
    /// Default: after the last item of the facet.
    public var orderNo: Int?
    public var facet = Self.facetDefault

    public init(nodeId: Int, itemText: String) { (self.nodeId, self.itemText) = (nodeId, itemText) }

    public init(_ p: Params) throws {
        self.init(nodeId: try p.req("node_id"), itemText: try p.reqString("item_text"))
        status = p.has("status") ? p.string("status") : nil
        orderNo = p.int("order_no")
        facet = p.string("facet") ?? Self.facetDefault
    }
}

/// What `graph.snapshot.create` takes.
public struct GraphSnapshotCreateInput: Sendable, Equatable {
    public var nodeId: Int
    public var snapshotType: String
    public var summary: String?
    public var affectedFiles: [String]?
    public var nextAction: String?

    public init(nodeId: Int, snapshotType: String) { (self.nodeId, self.snapshotType) = (nodeId, snapshotType) }

    public init(_ p: Params) throws {
        self.init(nodeId: try p.req("node_id"), snapshotType: try p.reqString("snapshot_type"))
        summary = p.string("summary")
        affectedFiles = p.strings("affected_files")
        nextAction = p.string("next_action")
    }
}
