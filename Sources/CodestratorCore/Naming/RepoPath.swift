import Foundation

/// Repository-relative paths (docs/protocol-eras.md#parameter-decoding rule 9).
public enum RepoPath {
    /// Normalises `path` against `root`: `.` segments and repeated `/` dropped, a trailing `/`
    /// dropped, an absolute path inside the repository made relative; anything that resolves outside
    /// (`..`, absolute elsewhere, a symlink leading out) is rejected. `.` stands for the root itself.
    public static func normalize(_ path: String, root: String, field: String) throws -> String {
        let outside = CodestratorError(
            .invalidParams, "\(field) \(quoted(path)) leaves the repository",
            expected: "a path inside the repository", field: field)
        var segments: [String] = []
        var rest = Substring(path)
        if path.hasPrefix("/") {
            let rootSlash = root.hasSuffix("/") ? root : root + "/"
            if path == root || path + "/" == rootSlash {
                rest = ""
            } else if path.hasPrefix(rootSlash) {
                rest = path.dropFirst(rootSlash.count)
            } else {
                throw outside
            }
        }
        for seg in rest.split(separator: "/", omittingEmptySubsequences: true) {
            if seg == "." { continue }
            if seg == ".." {
                guard !segments.isEmpty else { throw outside }
                segments.removeLast()
                continue
            }
            segments.append(String(seg))
        }
        let rel = segments.isEmpty ? "." : segments.joined(separator: "/")
        // A symlink may lead out: resolve the deepest existing ancestor and compare.
        var probe = rel == "." ? root : root + "/" + rel
        while !FileManager.default.fileExists(atPath: probe) && probe != root && probe.count > root.count {
            probe = (probe as NSString).deletingLastPathComponent
        }
        if let real = realpath(probe, nil) {
            let resolved = String(decoding: UnsafeRawBufferPointer(start: real, count: strlen(real)), as: UTF8.self)
            free(real)
            let realRoot = realRootPath(root)
            if resolved != realRoot && !resolved.hasPrefix(realRoot + "/") { throw outside }
        }
        return rel
    }

    static func realRootPath(_ root: String) -> String {
        guard let r = realpath(root, nil) else { return root }
        defer { free(r) }
        return String(decoding: UnsafeRawBufferPointer(start: r, count: strlen(r)), as: UTF8.self)
    }

    /// Normalises a list, keeping order and dropping duplicates.
    public static func normalizeAll(_ paths: [String], root: String, field: String) throws -> [String] {
        var out: [String] = []
        for (i, p) in paths.enumerated() {
            let n = try normalize(p, root: root, field: "\(field)[\(i)]")
            if !out.contains(n) { out.append(n) }
        }
        return out
    }
}
