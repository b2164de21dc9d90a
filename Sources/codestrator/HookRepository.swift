import Foundation

/// Finds the repository's main worktree by reading `.git` files instead of running git, so a hook
/// answers in a few milliseconds (docs/install.md#compaction-hook).
enum HookRepository {
    /// The main worktree containing `dir`, or nil outside a repository.
    static func mainWorktree(containing dir: String) -> String? {
        var current = (dir as NSString).standardizingPath
        while true {
            let dotGit = current + "/.git"
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dotGit, isDirectory: &isDir) {
                if isDir.boolValue { return current }
                // A linked worktree: ".git" names its gitdir, whose "commondir" leads to the main ".git".
                guard let text = try? String(contentsOfFile: dotGit, encoding: .utf8),
                    let line = text.split(separator: "\n").first(where: { $0.hasPrefix("gitdir:") })
                else { return nil }
                var gitdir = line.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespaces)
                if !gitdir.hasPrefix("/") { gitdir = current + "/" + gitdir }
                var common = gitdir
                if let c = try? String(contentsOfFile: gitdir + "/commondir", encoding: .utf8) {
                    let rel = c.trimmingCharacters(in: .whitespacesAndNewlines)
                    common = rel.hasPrefix("/") ? rel : gitdir + "/" + rel
                }
                common = (common as NSString).standardizingPath
                guard (common as NSString).lastPathComponent == ".git" else { return nil }
                return (common as NSString).deletingLastPathComponent
            }
            if current == "/" || current.isEmpty { return nil }
            current = (current as NSString).deletingLastPathComponent
        }
    }

    /// The database a hook should use: `--db`, `CODESTRATOR_DB`, else `<main worktree>/.codestrator/state.db`.
    /// Nil when there is none (a hook never creates one).
    static func databasePath(db: String?, repo: String?) -> String? {
        let env = ProcessInfo.processInfo.environment
        let cwd = FileManager.default.currentDirectoryPath
        if let d = db ?? env["CODESTRATOR_DB"], !d.isEmpty {
            let path = d.hasPrefix("/") ? d : cwd + "/" + d
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        let dir = repo ?? env["CODESTRATOR_REPO"] ?? cwd
        guard let root = mainWorktree(containing: dir.hasPrefix("/") ? dir : cwd + "/" + dir) else { return nil }
        let path = root + "/.codestrator/state.db"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}
