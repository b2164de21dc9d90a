import Foundation

/// Where Codestrator keeps its files inside a repository (docs/protocol-eras.md#repository-and-database).
public struct RepositoryLayout: Sendable {
    public let root: String
    public init(root: String) { self.root = root }

    public var stateDir: String { root + "/.codestrator" }
    public var worktreesDir: String { stateDir + "/worktrees" }
    public var logsDir: String { stateDir + "/logs" }
    public var runDir: String { stateDir + "/run" }
    public var mirrorDir: String { stateDir + "/mirror" }
    public var defaultDatabasePath: String { stateDir + "/state.db" }
    public var name: String { (root as NSString).lastPathComponent }

    public func worktreePath(slug: String) -> String { worktreesDir + "/" + slug }

    /// Creates `.codestrator/` (0700) and its subfolders; true when something was created.
    @discardableResult
    public func ensureDirectories() throws -> Bool {
        var created = false
        for dir in [stateDir, worktreesDir, logsDir, runDir, mirrorDir] {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) { continue }
            if mkdir(dir, 0o700) != 0 && errno != EEXIST {
                throw CodestratorError(
                    .externalFailed, "cannot create \(dir): \(String(cString: strerror(errno)))",
                    expected: "a writable repository")
            }
            created = true
        }
        return created
    }

    /// Appends `/.codestrator/` to the exclude file unless it is already listed; true when appended.
    @discardableResult
    public static func ensureExcluded(excludePath: String) throws -> Bool {
        let line = "/.codestrator/"
        let existing = (try? String(contentsOfFile: excludePath, encoding: .utf8)) ?? ""
        if existing.split(separator: "\n", omittingEmptySubsequences: false).contains(where: {
            $0.trimmingCharacters(in: .whitespaces) == line
        }) {
            return false
        }
        let dir = (excludePath as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var text = existing
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        text += line + "\n"
        guard let fh = FileHandle(forWritingAtPath: excludePath) else {
            try text.write(toFile: excludePath, atomically: true, encoding: .utf8)
            return true
        }
        defer { try? fh.close() }
        // Append only what is new, so a concurrent writer's lines are never overwritten.
        let addition = String(text.dropFirst(existing.count))
        fh.seekToEndOfFile()
        fh.write(Data(addition.utf8))
        return true
    }
}
