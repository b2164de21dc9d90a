import CodestratorCore
import Foundation
import TOMLKit

/// One managed part of one file (docs/install.md#what-install-writes): what install puts in, and how it is taken out again
/// while every other byte of the file stays as it was.
enum ManagedEdit: Sendable {
    /// The whole file belongs to Codestrator (skill files).
    case wholeFile(String)
    /// A `# BEGIN codestrator` … `# END codestrator` block holding `[mcp_servers.codestrator]`.
    case tomlBlock(String)
    /// An HTML-comment block in AGENTS.md / CLAUDE.md.
    case markdownBlock(String)
    /// `mcpServers.codestrator` of a JSON file.
    case jsonServer(JSON)
    /// The `hooks.SessionStart` entry running `hook session-start`, and (Claude Code) the `permissions.allow`
    /// entries that let the root call Codestrator's tools without a prompt per call.
    case sessionStartHook(command: String, allow: [String])

    static let tomlBegin =
        "# BEGIN codestrator (managed by codestrator install; remove with codestrator install --uninstall)"
    static let tomlEnd = "# END codestrator"
    static let markdownBegin = "<!-- BEGIN codestrator (managed by codestrator install) -->"
    static let markdownEnd = "<!-- END codestrator -->"

    /// What install marks as its own in the manifest (`managed`): the hook command, else nil.
    var managedMarker: String? {
        if case .sessionStartHook(let c, _) = self { return c }
        return nil
    }

    // MARK: install

    /// The file's new content. `owned` says the manifest records this file as touched by install (so a
    /// `codestrator` key or hook entry in it is ours); `previousMarker` is the hook command recorded then.
    /// Returns the content and the containers it created (JSON keys, for a clean uninstall), or throws
    /// when the file does not parse or holds something that is not ours.
    func apply(to existing: Data?, path: String, owned: Bool, previousMarker: String?) throws -> Applied {
        switch self {
        case .wholeFile(let text):
            return Applied(data: Data(text.utf8))
        case .tomlBlock(let block):
            let text = try Self.text(existing, path)
            try Self.checkTOML(text, path: path)
            let lines = Self.lines(text)
            if let range = try Self.blockRange(lines, Self.tomlBegin, Self.tomlEnd, path: path) {
                var new = lines
                new.replaceSubrange(range, with: Self.lines(block))
                let out = new.joined(separator: "\n")
                try Self.checkOurTable(out, path: path)
                return Applied(data: Data(out.utf8))
            }
            if (try? Self.tomlHasCodestrator(text)) == true {
                throw InstallFailure(
                    "\(path) already has an [mcp_servers.codestrator] table that codestrator install did not write; "
                        + "remove or rename that table (or wrap it in the install markers), then run install again")
            }
            let out = Self.appendBlock(text, block)
            try Self.checkOurTable(out, path: path)
            return Applied(data: Data(out.utf8))
        case .markdownBlock(let block):
            let text = try Self.text(existing, path)
            let lines = Self.lines(text)
            if let range = try Self.blockRange(lines, Self.markdownBegin, Self.markdownEnd, path: path) {
                var new = lines
                new.replaceSubrange(range, with: Self.lines(block))
                return Applied(data: Data(new.joined(separator: "\n").utf8))
            }
            return Applied(data: Data(Self.appendBlock(text, block).utf8))
        case .jsonServer(let entry):
            var (root, created) = try Self.jsonRoot(existing, path)
            var servers: JSONObject
            switch root["mcpServers"] {
            case nil:
                servers = JSONObject()
                created.append("mcpServers")
            case .object(let o)?: servers = o
            case let other?:
                throw InstallFailure("\(path): \"mcpServers\" is \(other.typeName); expected an object")
            }
            if let current = servers["codestrator"] {
                if !owned {
                    throw InstallFailure(
                        "\(path) already has an mcpServers.codestrator entry that codestrator install did not write; "
                            + "remove it (or rename it), then run install again")
                }
                if current == entry, existing != nil { return Applied(data: existing!) }
            }
            servers["codestrator"] = entry
            root["mcpServers"] = .object(servers)
            return Applied(data: Self.jsonData(root), created: created)
        case .sessionStartHook(let command, let allow):
            var (root, created) = try Self.jsonRoot(existing, path)
            var hooks: JSONObject
            switch root["hooks"] {
            case nil:
                hooks = JSONObject()
                created.append("hooks")
            case .object(let o)?: hooks = o
            case let other?: throw InstallFailure("\(path): \"hooks\" is \(other.typeName); expected an object")
            }
            var list: [JSON]
            switch hooks["SessionStart"] {
            case nil:
                list = []
                created.append("hooks.SessionStart")
            case .array(let a)?: list = a
            case let other?:
                throw InstallFailure("\(path): \"hooks.SessionStart\" is \(other.typeName); expected an array")
            }
            let entry = Self.hookEntry(command)
            var note: String?
            let ours = list.indices.filter { Self.entryCommands(list[$0]).contains(where: Self.runsSessionStart) }
            if let i = ours.first(where: { idx in
                owned
                    && Self.entryCommands(list[idx]).contains(where: { $0 == command || $0 == previousMarker })
            }) {
                list[i] = entry
            } else if !ours.isEmpty {
                note = "a SessionStart entry already runs hook session-start and was not written by install; left alone"
            } else {
                list.append(entry)
            }
            hooks["SessionStart"] = .array(list)
            root["hooks"] = .object(hooks)
            if !allow.isEmpty {
                var permissions: JSONObject
                switch root["permissions"] {
                case nil:
                    permissions = JSONObject()
                    created.append("permissions")
                case .object(let o)?: permissions = o
                case let other?:
                    throw InstallFailure("\(path): \"permissions\" is \(other.typeName); expected an object")
                }
                var allowed: [JSON]
                switch permissions["allow"] {
                case nil:
                    allowed = []
                    created.append("permissions.allow")
                case .array(let a)?: allowed = a
                case let other?:
                    throw InstallFailure("\(path): \"permissions.allow\" is \(other.typeName); expected an array")
                }
                for a in allow where !allowed.contains(.string(a)) { allowed.append(.string(a)) }
                permissions["allow"] = .array(allowed)
                root["permissions"] = .object(permissions)
            }
            let out = Self.jsonData(root)
            if let existing, (try? Self.jsonRoot(existing, path).0) == root {
                return Applied(data: existing, created: created, note: note)
            }
            return Applied(data: out, created: created, note: note)
        }
    }

    struct Applied {
        var data: Data
        var created: [String] = []
        var note: String?
    }

    // MARK: uninstall of a file the user edited since

    /// The file without the managed part (nil: nothing is left and install created the file).
    func strip(from data: Data, path: String, created: [String], marker: String?, existed: Bool) throws -> Data? {
        switch self {
        case .wholeFile:
            return data
        case .tomlBlock, .markdownBlock:
            let (begin, end) = isTOML ? (Self.tomlBegin, Self.tomlEnd) : (Self.markdownBegin, Self.markdownEnd)
            let text = String(decoding: data, as: UTF8.self)
            var lines = Self.lines(text)
            guard let range = try Self.blockRange(lines, begin, end, path: path) else { return data }
            var lower = range.lowerBound
            if lower > 0 && lines[lower - 1].trimmingCharacters(in: .whitespaces).isEmpty { lower -= 1 }
            lines.removeSubrange(lower..<range.upperBound)
            let out = lines.joined(separator: "\n")
            if !existed && out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return nil }
            return Data(out.utf8)
        case .jsonServer:
            var (root, _) = try Self.jsonRoot(data, path)
            guard var servers = root["mcpServers"]?.objectValue, servers["codestrator"] != nil else { return data }
            servers["codestrator"] = nil
            root["mcpServers"] = servers.isEmpty && created.contains("mcpServers") ? nil : .object(servers)
            if !existed && root.isEmpty { return nil }
            return Self.jsonData(root)
        case .sessionStartHook(let command, let allow):
            var (root, _) = try Self.jsonRoot(data, path)
            if var hooks = root["hooks"]?.objectValue, var list = hooks["SessionStart"]?.arrayValue {
                list.removeAll { e in Self.entryCommands(e).contains { $0 == command || $0 == marker } }
                if list.isEmpty && created.contains("hooks.SessionStart") {
                    hooks["SessionStart"] = nil
                } else {
                    hooks["SessionStart"] = .array(list)
                }
                root["hooks"] = hooks.isEmpty && created.contains("hooks") ? nil : .object(hooks)
            }
            if !allow.isEmpty, var permissions = root["permissions"]?.objectValue,
                var allowed = permissions["allow"]?.arrayValue
            {
                allowed.removeAll { a in allow.contains { .string($0) == a } }
                permissions["allow"] = allowed.isEmpty && created.contains("permissions.allow") ? nil : .array(allowed)
                root["permissions"] =
                    permissions.isEmpty && created.contains("permissions") ? nil : .object(permissions)
            }
            if !existed && root.isEmpty { return nil }
            return Self.jsonData(root)
        }
    }

    var isTOML: Bool {
        if case .tomlBlock = self { return true }
        return false
    }

    // MARK: helpers

    static func hookEntry(_ command: String) -> JSON {
        .object(
            JSONObject([
                ("matcher", .string("compact|resume")),
                (
                    "hooks",
                    .array([.object(JSONObject([("type", .string("command")), ("command", .string(command))]))])
                ),
            ]))
    }

    static func entryCommands(_ entry: JSON) -> [String] {
        (entry["hooks"]?.arrayValue ?? []).compactMap { $0["command"]?.stringValue }
    }

    static func runsSessionStart(_ command: String) -> Bool { command.contains("hook session-start") }

    static func text(_ data: Data?, _ path: String) throws -> String {
        guard let data else { return "" }
        guard let s = String(data: data, encoding: .utf8) else {
            throw InstallFailure("\(path) is not UTF-8 text; left alone")
        }
        return s
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Appends `block` after one blank line; the result ends with a newline.
    static func appendBlock(_ text: String, _ block: String) -> String {
        var out = text
        if !out.isEmpty {
            if !out.hasSuffix("\n") { out += "\n" }
            if !out.hasSuffix("\n\n") { out += "\n" }
        }
        return out + block + "\n"
    }

    /// The line range of a marker block, or nil; a BEGIN without END (or the reverse) is refused.
    static func blockRange(_ lines: [String], _ begin: String, _ end: String, path: String) throws -> Range<Int>? {
        let beginKey = begin.prefix(while: { $0 != "(" }).trimmingCharacters(in: .whitespaces)
        let b = lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(beginKey) }
        let e = lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == end }
        switch (b, e) {
        case (nil, nil): return nil
        case (let b?, let e?) where e > b: return b..<(e + 1)
        default:
            throw InstallFailure(
                "\(path) has a damaged codestrator block (BEGIN and END markers do not pair); fix or remove the "
                    + "markers by hand, then run install again")
        }
    }

    static func checkTOML(_ text: String, path: String) throws {
        do {
            _ = try TOMLTable(string: text)
        } catch {
            throw InstallFailure(
                "\(path) is not valid TOML (\(describe(error))); left alone — fix it, then run install again")
        }
    }

    static func tomlHasCodestrator(_ text: String) throws -> Bool {
        try TOMLTable(string: text)["mcp_servers"]?.table?["codestrator"] != nil
    }

    /// The edited file must still parse and carry our table (e.g. an inline `mcp_servers = {…}` table
    /// cannot take a `[mcp_servers.codestrator]` header).
    static func checkOurTable(_ text: String, path: String) throws {
        let ok: Bool
        do { ok = try tomlHasCodestrator(text) } catch { ok = false }
        if !ok {
            throw InstallFailure(
                "\(path): adding [mcp_servers.codestrator] would not give valid TOML (is mcp_servers an inline "
                    + "table?); left alone — add the table by hand or use a [mcp_servers] section")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? TOMLParseError {
            return "line \(e.source.begin.line), column \(e.source.begin.column): \(e.description)"
        }
        return "\(error)"
    }

    static func jsonRoot(_ data: Data?, _ path: String) throws -> (JSONObject, [String]) {
        guard let data, !data.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) else { return (JSONObject(), []) }
        let parsed: JSON
        do {
            parsed = try JSON.parse(Array(data))
        } catch {
            throw InstallFailure("\(path) is not valid JSON (\(error)); left alone — fix it, then run install again")
        }
        guard case .object(let o) = parsed else {
            throw InstallFailure("\(path) holds \(parsed.typeName); expected a JSON object — left alone")
        }
        return (o, [])
    }

    /// 2-space indentation and a final newline, as Claude Code and Codex write these files.
    static func jsonData(_ root: JSONObject) -> Data {
        Data((JSON.object(root).prettyPrinted() + "\n").utf8)
    }
}
