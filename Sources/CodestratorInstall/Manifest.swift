import CodestratorCore
import Foundation

/// What install touched, so `--uninstall` can put every file back (docs/install.md#install-rules, Reversible).
struct Manifest: Equatable {
    struct Entry: Equatable {
        var path: String
        var client: String
        var existed: Bool
        var sha256Before: String?
        var sha256After: String
        /// The original bytes (base64) when the file existed.
        var backup: String?
        /// The hook command install wrote into this file, if any.
        var managed: String?
        /// JSON containers install created (`mcpServers`, `hooks`, `hooks.SessionStart`).
        var created: [String]
        /// Folders install created for this file, outermost first.
        var createdDirs: [String]
    }

    var entries: [Entry] = []

    subscript(path: String) -> Entry? {
        get { entries.first { $0.path == path } }
        set {
            entries.removeAll { $0.path == path }
            if let newValue { entries.append(newValue) }
            entries.sort { $0.path < $1.path }
        }
    }

    static func load(_ path: String) throws -> Manifest {
        guard let data = Files.read(path) else { return Manifest() }
        let json: JSON
        do { json = try JSON.parse(Array(data)) } catch {
            throw InstallFailure("the install manifest \(path) is not valid JSON (\(error)); fix or remove it")
        }
        var m = Manifest()
        for e in json["files"]?.arrayValue ?? [] {
            guard let p = e["path"]?.stringValue, let after = e["sha256_after"]?.stringValue else {
                throw InstallFailure("the install manifest \(path) has an entry without path or sha256_after")
            }
            m.entries.append(
                Entry(
                    path: p, client: e["client"]?.stringValue ?? "", existed: e["existed"]?.boolValue ?? false,
                    sha256Before: e["sha256_before"]?.stringValue, sha256After: after,
                    backup: e["backup_base64"]?.stringValue, managed: e["managed"]?.stringValue,
                    created: (e["created"]?.arrayValue ?? []).compactMap(\.stringValue),
                    createdDirs: (e["created_dirs"]?.arrayValue ?? []).compactMap(\.stringValue)))
        }
        return m
    }

    func data() -> Data {
        let files: [JSON] = entries.map { e in
            .object(
                JSONObject([
                    ("path", .string(e.path)), ("client", .string(e.client)), ("existed", .bool(e.existed)),
                    ("sha256_before", e.sha256Before.map(JSON.string) ?? .null),
                    ("sha256_after", .string(e.sha256After)),
                    ("backup_base64", e.backup.map(JSON.string) ?? .null),
                    ("managed", e.managed.map(JSON.string) ?? .null),
                    ("created", .array(e.created.map(JSON.string))),
                    ("created_dirs", .array(e.createdDirs.map(JSON.string))),
                ]))
        }
        let root = JSONObject([("manifest_version", .int(1)), ("files", .array(files))])
        return Data((JSON.object(root).prettyPrinted() + "\n").utf8)
    }
}
