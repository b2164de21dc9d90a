import Foundation

/// Lock paths (docs/methods.md#lockacquire): `.` for the whole repository (prefix only); a path inside
/// `.codestrator/worktrees/<slug>/` is relative to that worktree's root, so the same file named from
/// the main worktree, absolutely, or through a child worktree is one lock; anything else under
/// `.codestrator/` is refused.
public enum LockPath {
    /// Whether the file system holding `root` compares names case-insensitively (APFS and NTFS by
    /// default): detected, never assumed from the platform, by whether `.git` and `.GIT` there are one file.
    public static func caseInsensitive(root: String) -> Bool {
        var a = stat()
        var b = stat()
        guard stat(root + "/.git", &a) == 0, stat(root + "/.GIT", &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    public static func normalize(_ raw: String, root: String, field: String = "scope_path") throws -> String {
        if raw == "." { return "." }
        let rel = try RepoPath.normalize(raw, root: root, field: field)
        let wtPrefix = ".codestrator/worktrees/"
        if rel.hasPrefix(wtPrefix) {
            let rest = rel.dropFirst(wtPrefix.count)
            let parts = rest.split(separator: "/", maxSplits: 1)
            guard let slug = parts.first else { return "." }
            let inner = parts.count > 1 ? String(parts[1]) : "."
            // Symlinks resolve against the worktree the path lies in.
            return inner == "." ? "." : try RepoPath.normalize(inner, root: root + "/" + wtPrefix + slug, field: field)
        }
        if rel == ".codestrator" || rel.hasPrefix(".codestrator/") {
            throw CodestratorError(
                .invalidParams, "\(field) \(quoted(raw)) is inside .codestrator/",
                expected: "a path of the repository's files", field: field)
        }
        return rel
    }
}
