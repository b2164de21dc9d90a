import Foundation

/// Small file helpers for install: exact bytes in, atomic bytes out.
enum Files {
    static func read(_ path: String) -> Data? {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { return nil }
        return FileManager.default.contents(atPath: path)
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// The missing ancestors of `path`'s folder, outermost first (so they can be created and later removed).
    static func missingDirectories(for path: String) -> [String] {
        var missing: [String] = []
        var dir = (path as NSString).deletingLastPathComponent
        while !dir.isEmpty, dir != "/", !FileManager.default.fileExists(atPath: dir) {
            missing.insert(dir, at: 0)
            dir = (dir as NSString).deletingLastPathComponent
        }
        return missing
    }

    /// Writes `data` to a temporary file in the same folder and renames it over `path`, keeping the
    /// original's permissions when there was one.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let name = (path as NSString).lastPathComponent
        let tmp = dir + "/.\(name).codestrator-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        var mode: mode_t = 0o644
        var st = stat()
        if stat(path, &st) == 0 { mode = st.st_mode & 0o7777 }
        guard FileManager.default.createFile(atPath: tmp, contents: data, attributes: [.posixPermissions: mode])
        else {
            throw InstallFailure("cannot write \(tmp): \(String(cString: strerror(errno)))")
        }
        if rename(tmp, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw InstallFailure("cannot replace \(path): \(reason)")
        }
    }

    static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw InstallFailure("cannot remove \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes `dir` if it is empty; true when removed.
    @discardableResult
    static func removeIfEmpty(_ dir: String) -> Bool {
        guard let items = try? FileManager.default.contentsOfDirectory(atPath: dir), items.isEmpty else {
            return false
        }
        return rmdir(dir) == 0
    }
}

/// A problem that stops install (exit 1) with a message naming the file and the fix.
public struct InstallFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// Shell quoting for hook commands (both clients run them through a shell).
public enum Shell {
    public static func quote(_ s: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+:,@%=")
        if !s.isEmpty && s.allSatisfy({ safe.contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
