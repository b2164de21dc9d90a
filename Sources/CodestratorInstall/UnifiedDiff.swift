/// A unified diff for `--dry-run`: one hunk around the changed lines (common head and tail trimmed).
enum UnifiedDiff {
    static func make(old: String?, new: String?, path: String, context: Int = 3) -> String {
        let a = old.map(split) ?? []
        let b = new.map(split) ?? []
        var head = 0
        while head < a.count && head < b.count && a[head] == b[head] { head += 1 }
        var tail = 0
        while tail < a.count - head && tail < b.count - head && a[a.count - 1 - tail] == b[b.count - 1 - tail] {
            tail += 1
        }
        if head == a.count && head == b.count { return "" }
        let start = max(0, head - context)
        let aEnd = min(a.count, a.count - tail + context)
        let bEnd = min(b.count, b.count - tail + context)
        var out = "--- \(old == nil ? "/dev/null" : "a" + path)\n+++ \(new == nil ? "/dev/null" : "b" + path)\n"
        let aLen = aEnd - start
        let bLen = bEnd - start
        out += "@@ -\(aLen == 0 ? start : start + 1),\(aLen) +\(bLen == 0 ? start : start + 1),\(bLen) @@\n"
        for i in start..<head { out += " " + a[i] + "\n" }
        for i in head..<(a.count - tail) { out += "-" + a[i] + "\n" }
        for i in head..<(b.count - tail) { out += "+" + b[i] + "\n" }
        for i in (a.count - tail)..<aEnd { out += " " + a[i] + "\n" }
        return out
    }

    private static func split(_ s: String) -> [String] {
        var lines = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}
