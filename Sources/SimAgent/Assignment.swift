import CodestratorCore
import Foundation

/// The assignment a child receives in its first input (docs/runtime-guide.md#the-prompt), as the sim reads it.
///
/// The prompt carries one fenced block whose JSON object is wrapped in a `codestrator_assignment` key:
///
/// ````
/// ```json
/// {"codestrator_assignment": {"session_id": 1, "thread_id": 7, "role": "worker", "parent_thread_id": 1,
///  "worktree_id": 3, "case_ids": [12, 13], "task_ids": [], "node_ids": [], "merge_request_id": null,
///  "review_job_id": null, "queue_item_id": null, "task_spec": {}}}
/// ```
/// ````
///
/// A fence whose info string is `codestrator_assignment` holding the inner object directly is read the same way:
///
/// ````
/// ```codestrator_assignment
/// {"session_id": 1, "thread_id": 7, "role": "worker", "case_ids": [12, 13], "task_spec": {}}
/// ```
/// ````
///
/// Fields the sim uses: `thread_id`, `session_id`, `role`, `case_ids` (for `for_each_case`), and for reviewers
/// `merge_request_id` and `review_job_id`; a field missing at the top level is looked up in `task_spec`
/// (`merge.review.request_auto` puts the review's ids there). Every field is reachable as `${assignment.<field>}`.
public enum SimAssignment {
    /// The assignment object of an input, if the input carries one.
    public static func extract(from input: String) -> JSONObject? {
        let lines = input.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n", omittingEmptySubsequences: false)
        var i = 0
        while i < lines.count {
            let open = lines[i].trimmingCharacters(in: .whitespaces)
            guard open.hasPrefix("```") else {
                i += 1
                continue
            }
            let info = open.dropFirst(3).trimmingCharacters(in: .whitespaces)
            var body: [Substring] = []
            var j = i + 1
            while j < lines.count, lines[j].trimmingCharacters(in: .whitespaces) != "```" {
                body.append(lines[j])
                j += 1
            }
            if let o = try? JSON.parse(body.joined(separator: "\n")).objectValue {
                if let inner = o["codestrator_assignment"]?.objectValue { return inner }
                if info == "codestrator_assignment" { return o }
            }
            i = j + 1
        }
        // No fence: the wrapped object written inline.
        if let r = input.range(of: "{\"codestrator_assignment\"") {
            let bytes = Array(input[r.lowerBound...].utf8)
            if let end = balancedObjectEnd(bytes), let o = try? JSON.parse(bytes[0..<end]).objectValue,
                let inner = o["codestrator_assignment"]?.objectValue
            {
                return inner
            }
        }
        return nil
    }

    /// A field of the assignment, also found in its `task_spec` when absent (or null) at the top.
    public static func field(_ assignment: JSONObject, _ name: String) -> JSON? {
        if let v = assignment[name], !v.isNull { return v }
        if let v = assignment["task_spec"]?[name], !v.isNull { return v }
        return assignment[name]
    }

    /// The case ids, in order.
    public static func caseIds(_ assignment: JSONObject) -> [Int] {
        (field(assignment, "case_ids")?.arrayValue ?? []).compactMap(\.intValue)
    }

    /// The end (exclusive) of the JSON object starting at bytes[0] == `{`.
    static func balancedObjectEnd(_ bytes: [UInt8]) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        for (i, b) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { return i + 1 }
            default: break
            }
        }
        return nil
    }
}
