/// graph_nodes.status (docs/database.md#status-transitions): free among the five creation statuses at creation; after
/// that only the roll-up and replan triggers move it.
public enum GraphNodeStatus: String, StatusMachine {
    case todo, inProgress = "in_progress", inReview = "in_review", blocked, done, cancelled

    /// What `graph.node.create` accepts (`in_review` only through plan.rollup.submit).
    public static let creatable: [GraphNodeStatus] = [.todo, .inProgress, .blocked, .done, .cancelled]

    public static let transitions: [Self: Set<Self>] = [
        .todo: [.inReview],  // plan.rollup.submit
        .inProgress: [.inReview],
        .blocked: [.inReview, .todo],  // submit; plan.slice.replan
        .inReview: [.done, .blocked],  // approve | reject
        .done: [],
        .cancelled: [],
    ]
}

/// graph_nodes.approval_state (docs/database.md#status-transitions).
public enum ApprovalState: String, StatusMachine {
    case none, pending, approved, rejected
    public static let transitions: [Self: Set<Self>] = [
        .none: [.pending],  // plan.rollup.submit
        .pending: [.approved, .rejected],  // approve | reject
        .rejected: [.pending, .none],  // resubmit | replan
        .approved: [],
    ]
}

public enum GraphEdgeType: String, Sendable, CaseIterable {
    case contains
    case dependsOn = "depends_on"
    case blocks
    case relatesTo = "relates_to"
}

/// A row of `graph_nodes`.
public struct GraphNodeRecord: Sendable {
    public var id: Int
    public var nodeType: String
    public var facet: String
    public var title: String
    public var status: GraphNodeStatus
    public var priority: Int
    public var parentId: Int?
    public var taskId: Int?
    public var worktreeId: Int?
    public var ownerSessionId: Int?
    public var summary: String?
    public var riskLevel: Int?
    public var tokenEstimate: Int?
    public var affectedFiles: [String]
    public var approvalState: ApprovalState
    public var createdAt: String
    public var updatedAt: String

    public init(_ r: SQLRow) {
        id = r.int("id")
        nodeType = r.string("node_type")
        facet = r.string("facet")
        title = r.string("title")
        status = GraphNodeStatus(rawValue: r.string("status")) ?? .todo
        priority = r.int("priority")
        parentId = r.optInt("parent_id")
        taskId = r.optInt("task_id")
        worktreeId = r.optInt("worktree_id")
        ownerSessionId = r.optInt("owner_session_id")
        summary = r.optString("summary")
        riskLevel = r.optInt("risk_level")
        tokenEstimate = r.optInt("token_estimate")
        affectedFiles = r.json("affected_files").arrayValue?.compactMap(\.stringValue) ?? []
        approvalState = ApprovalState(rawValue: r.string("approval_state")) ?? ApprovalState.none
        createdAt = r.string("created_at")
        updatedAt = r.string("updated_at")
    }

    public static func load(_ tx: Tx, _ id: Int?) throws -> GraphNodeRecord? {
        guard let id else { return nil }
        return try tx.row("SELECT * FROM graph_nodes WHERE id = ?", [id]).map(GraphNodeRecord.init)
    }

    /// Direct children (`parent_id`), priority descending, then id.
    public static func children(_ tx: Tx, of id: Int) throws -> [GraphNodeRecord] {
        try tx.rows("SELECT * FROM graph_nodes WHERE parent_id = ? ORDER BY priority DESC, id", [id])
            .map(GraphNodeRecord.init)
    }

    /// The GraphNode shape (docs/database.md#object-shapes).
    public var json: JSON {
        .obj([
            "id": id, "node_type": nodeType, "facet": facet, "title": title, "status": status.rawValue,
            "priority": priority, "parent_id": parentId, "task_id": taskId, "worktree_id": worktreeId,
            "owner_session_id": ownerSessionId, "summary": summary, "risk_level": riskLevel,
            "token_estimate": tokenEstimate, "affected_files": affectedFiles,
            "approval_state": approvalState.rawValue, "created_at": createdAt, "updated_at": updatedAt,
        ])
    }
}

/// A row of `graph_edges`.
public struct GraphEdgeRecord: Sendable {
    public var id: Int
    public var fromNodeId: Int
    public var toNodeId: Int
    public var edgeType: String
    public var createdAt: String

    public init(_ r: SQLRow) {
        id = r.int("id")
        fromNodeId = r.int("from_node_id")
        toNodeId = r.int("to_node_id")
        edgeType = r.string("edge_type")
        createdAt = r.string("created_at")
    }

    public static func load(_ tx: Tx, _ id: Int) throws -> GraphEdgeRecord? {
        try tx.row("SELECT * FROM graph_edges WHERE id = ?", [id]).map(GraphEdgeRecord.init)
    }

    public var json: JSON {
        .obj([
            "id": id, "from_node_id": fromNodeId, "to_node_id": toNodeId, "edge_type": edgeType,
            "created_at": createdAt,
        ])
    }
}

/// A row of `node_checklists`.
public struct ChecklistItemRecord: Sendable {
    public var id: Int
    public var json: JSON

    public init(_ r: SQLRow) {
        id = r.int("id")
        json = .obj([
            "id": r.int("id"), "node_id": r.int("node_id"), "item_text": r.string("item_text"),
            "status": r.string("status"), "order_no": r.int("order_no"), "facet": r.string("facet"),
            "created_at": r.optString("created_at"), "updated_at": r.string("updated_at"),
        ])
    }

    public static func load(_ tx: Tx, _ id: Int) throws -> ChecklistItemRecord? {
        try tx.row("SELECT * FROM node_checklists WHERE id = ?", [id]).map(ChecklistItemRecord.init)
    }
}

/// A row of `node_snapshots`.
public struct SnapshotRecord: Sendable {
    public var id: Int
    public var json: JSON

    public init(_ r: SQLRow) {
        id = r.int("id")
        json = .obj([
            "id": r.int("id"), "node_id": r.int("node_id"), "snapshot_type": r.string("snapshot_type"),
            "summary": r.optString("summary"),
            "affected_files": r.json("affected_files").arrayValue.map(JSON.array) ?? JSON.array([]),
            "next_action": r.optString("next_action"), "trigger": r.optString("trigger"),
            "created_at": r.string("created_at"),
        ])
    }

    public static func load(_ tx: Tx, _ id: Int) throws -> SnapshotRecord? {
        try tx.row("SELECT * FROM node_snapshots WHERE id = ?", [id]).map(SnapshotRecord.init)
    }

    /// Inserts a snapshot in the caller's transaction and returns it.
    static func insert(
        _ tx: Tx, nodeId: Int, type: String, summary: String?, affectedFiles: [String], nextAction: String?,
        trigger: String? = nil
    ) throws -> SnapshotRecord {
        let id = try tx.insert(
            """
            INSERT INTO node_snapshots (node_id, snapshot_type, summary, affected_files, next_action, trigger,
              created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                nodeId, type, summary, JSON.array(affectedFiles.map(JSON.string)), nextAction, trigger, tx.now,
            ])
        return try load(tx, id)!
    }
}

/// `planning_rules` (singleton).
public struct PlanningRules: Sendable {
    public var maxTokenPerSlice: Int
    public var maxFilesPerSlice: Int

    public static func load(_ tx: Tx) throws -> PlanningRules {
        let r = try tx.row("SELECT max_token_per_slice, max_files_per_slice FROM planning_rules WHERE id = 1")
        return PlanningRules(
            maxTokenPerSlice: r?.int("max_token_per_slice") ?? 18_000,
            maxFilesPerSlice: r?.int("max_files_per_slice") ?? 12)
    }

    public var json: JSON { .obj(["max_token_per_slice": maxTokenPerSlice, "max_files_per_slice": maxFilesPerSlice]) }

    /// What breaks the rules, e.g. `token_estimate 25000, 14 files`; nil when nothing does.
    public func violation(tokenEstimate: Int?, files: Int) -> String? {
        var parts: [String] = []
        if let t = tokenEstimate, t > maxTokenPerSlice { parts.append("token_estimate \(t)") }
        if files > maxFilesPerSlice { parts.append("\(files) files") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    public var expectation: String { "≤ \(maxTokenPerSlice) tokens and ≤ \(maxFilesPerSlice) files per slice" }
}

/// A row of `inbox_messages`.
public struct InboxMessageRecord: Sendable {
    public var id: Int
    public var sessionId: Int
    public var senderThreadId: Int
    public var receiverThreadId: Int
    public var kind: String
    public var message: String
    public var status: String
    public var deliveredVia: String?
    public var createdAt: String
    public var deliveredAt: String?

    public init(_ r: SQLRow) {
        id = r.int("id")
        sessionId = r.int("session_id")
        senderThreadId = r.int("sender_thread_id")
        receiverThreadId = r.int("receiver_thread_id")
        kind = r.string("kind")
        message = r.string("message")
        status = r.string("status")
        deliveredVia = r.optString("delivered_via")
        createdAt = r.string("created_at")
        deliveredAt = r.optString("delivered_at")
    }

    public static func load(_ tx: Tx, _ id: Int) throws -> InboxMessageRecord? {
        try tx.row("SELECT * FROM inbox_messages WHERE id = ?", [id]).map(InboxMessageRecord.init)
    }

    /// The InboxMessage shape (docs/database.md#object-shapes).
    public var json: JSON {
        .obj([
            "id": id, "session_id": sessionId, "sender_thread_id": senderThreadId,
            "receiver_thread_id": receiverThreadId, "kind": kind, "message": message, "status": status,
            "delivered_via": deliveredVia, "created_at": createdAt, "delivered_at": deliveredAt,
        ])
    }
}

/// inbox_messages.status (docs/database.md#status-transitions).
public enum InboxStatus: String, StatusMachine {
    case pending, delivered
    public static let transitions: [Self: Set<Self>] = [.pending: [.delivered], .delivered: []]
}
