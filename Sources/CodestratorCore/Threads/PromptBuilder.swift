import Foundation

/// The assignment pasted into a child once it is ready (docs/runtime-guide.md#the-prompt).
public enum PromptBuilder {
    public static let maxBytes = 65_536

    static let startLines: [ThreadRole: String] = [
        .worker:
            "Start with work.current_ref, then resume.next, then case.begin; finish with case.complete and work.report.",
        .mergeReviewer: "Start with merge.review_context, then finish with merge.review.submit.",
        .planArchitect:
            "Start with work.current_ref; do the planning task; finish with work.report (outcome done, with a summary).",
        .docMirrorManager:
            "Start with mirror.status; do the task; finish with work.report (outcome done, with the mirror path).",
    ]

    public struct Input: Sendable {
        public var threadId: Int
        public var role: ThreadRole
        public var sessionId: Int
        public var parentThreadId: Int?
        public var worktreeId: Int?
        public var workdir: String
        public var branch: String?
        public var guide: String?
        public var initialPrompt: String?
        public var objective: String?
        /// Scoped cases in order: (id, title, planned step titles).
        public var cases: [(Int, String, [String])]
        public var taskIds: [Int]
        public var nodeIds: [Int]
        public var taskSpec: JSON
        public var review: (mergeRequestId: Int, reviewJobId: Int, queueItemId: Int?, source: String, target: String)?
        /// The child's provider: a Codex worker is told who commits its work.
        public var provider: String? = nil

        public init(
            threadId: Int, role: ThreadRole, sessionId: Int, parentThreadId: Int?, worktreeId: Int?, workdir: String,
            branch: String?, guide: String?, initialPrompt: String?, objective: String?,
            cases: [(Int, String, [String])],
            taskIds: [Int], nodeIds: [Int], taskSpec: JSON,
            review: (mergeRequestId: Int, reviewJobId: Int, queueItemId: Int?, source: String, target: String)? = nil
        ) {
            self.threadId = threadId
            self.role = role
            self.sessionId = sessionId
            self.parentThreadId = parentThreadId
            self.worktreeId = worktreeId
            self.workdir = workdir
            self.branch = branch
            self.guide = guide
            self.initialPrompt = initialPrompt
            self.objective = objective
            self.cases = cases
            self.taskIds = taskIds
            self.nodeIds = nodeIds
            self.taskSpec = taskSpec
            self.review = review
        }
    }

    public static func build(_ i: Input) -> String {
        var header = """
            # Codestrator assignment: thread \(i.threadId) (\(i.role.rawValue)) in session \(i.sessionId)
            You are a child agent started by Codestrator. Your Codestrator tools act as thread \(i.threadId).
            Work only in \(i.workdir) (branch \(i.branch ?? "none")). Never ask the user anything: report to your parent with
            work.report (outcome blocked, with a question) and wait for a directive from the root.

            """
        var assignment = "## Assignment\n"
        if let p = i.initialPrompt {
            assignment += p + "\n"
        } else if let r = i.review {
            assignment +=
                "Review merge request \(r.mergeRequestId) (review job \(r.reviewJobId)): \(r.source) → \(r.target). Call merge.review_context, check conflicts, missing changes, contract breaks and quality, then merge.review.submit. Do not modify files.\n"
        } else {
            if let o = i.objective { assignment += o + "\n\n" }
            for (id, title, steps) in i.cases {
                assignment += "- case \(id): \(title)\n"
                for (n, s) in steps.enumerated() { assignment += "  \(n + 1). \(s)\n" }
            }
            if !i.taskSpec.isNull { assignment += "\nTask spec: \(i.taskSpec.serialized())\n" }
        }
        assignment += "\n" + (startLines[i.role] ?? "") + "\n"
        if i.provider == "codex", i.role == .worker {
            assignment +=
                "Codex's sandbox keeps git's folder read-only here: edit files but do not run git add or git commit; each step.check with status done commits your worktree for you (its result names the commit).\n"
        }
        var block = JSONObject()
        block["session_id"] = .int(i.sessionId)
        block["thread_id"] = .int(i.threadId)
        block["role"] = .string(i.role.rawValue)
        block["parent_thread_id"] = i.parentThreadId.json
        block["worktree_id"] = i.worktreeId.json
        block["case_ids"] = .array(i.cases.map { .int($0.0) })
        block["task_ids"] = .array(i.taskIds.map(JSON.int))
        block["node_ids"] = .array(i.nodeIds.map(JSON.int))
        block["merge_request_id"] = i.review.map { .int($0.mergeRequestId) } ?? .null
        block["review_job_id"] = i.review.map { .int($0.reviewJobId) } ?? .null
        block["queue_item_id"] = i.review?.queueItemId.json ?? .null
        block["task_spec"] = i.taskSpec
        let json = JSON.obj(["codestrator_assignment": JSON.object(block)]).serialized()
        let tail = "\n```json\n\(json)\n```\n"
        // The guide file given at spawn, else the role skill built into the binary (docs/install.md#skills).
        let guide = i.guide ?? SkillText.forRole(i.role)?.body ?? ""
        var text = header + guide + "\n\n" + assignment + tail
        if text.utf8.count > maxBytes {
            header += "(The role guide is in the \(skillName(i.role)) skill.)\n\n"
            text = header + assignment + tail
        }
        return sanitize(text)
    }

    static func skillName(_ role: ThreadRole) -> String {
        role == .sessionRoot ? "codestrator" : "codestrator-\(role.rawValue)"
    }

    /// Pane-safe: only `\n` and `\t` as control characters.
    public static func sanitize(_ s: String) -> String {
        String(
            String.UnicodeScalarView(
                s.unicodeScalars.filter { $0 == "\n" || $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) }))
    }
}
