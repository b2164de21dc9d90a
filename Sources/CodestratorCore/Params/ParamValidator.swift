import Foundation

/// Checks a call's `params` object against its declared specs (docs/protocol-eras.md#parameter-decoding), stopping at the
/// first wrong field with a precise `invalid_params` error, and collects warnings for unknown keys.
public enum ParamValidator {
    public static let maxJSONBytes = 65_536
    static let maxId = 9_007_199_254_740_991

    /// With `refuseNearMisses` (methods that write), an unknown key that is a near miss of a declared
    /// one (`userRequest`, `sesion_id`) is an `invalid_params` error instead of a warning, so that a call
    /// whose intent was misspelt changes nothing.
    public static func validate(
        _ params: JSONObject, specs: [ParamSpec], prefixed prefix: String = "", refuseNearMisses: Bool = false
    ) throws -> (Params, [String]) {
        // Nested objects (`set`) are checked with their keys prefixed, so errors name `set.node_id`.
        var params = params
        if !prefix.isEmpty {
            var o = JSONObject()
            for (k, v) in params.pairs { o[prefix + k] = v }
            params = o
        }
        var out = Params()
        var warnings: [String] = []
        // Few specs and few keys: a scan is cheaper than building a set on every call.
        for key in params.keys where !specs.contains(where: { $0.name == key }) {
            out.unknownKeys.append(key)
            if refuseNearMisses, let guess = nearMiss(key, in: specs.map(\.name)) {
                throw CodestratorError(
                    .invalidParams, "unknown parameter \"\(key)\" (did you mean \"\(guess)\"?)",
                    expected: "\"\(guess)\" (this method writes, so a misspelt key is refused and nothing is written)",
                    field: key)
            }
            if let guess = closest(key, in: specs.map(\.name)) {
                warnings.append("unknown parameter \"\(key)\" ignored (did you mean \"\(guess)\"?)")
            } else {
                warnings.append("unknown parameter \"\(key)\" ignored")
            }
        }
        for spec in specs {
            let raw = params[spec.name]
            if let d = spec.defaultValue { out.defaults[spec.name] = d }
            guard let raw, !raw.isNull else {
                if raw != nil && spec.nullable {
                    out.explicitNulls.insert(spec.name)
                    out.defaults[spec.name] = nil
                    continue
                }
                if spec.required {
                    throw CodestratorError(
                        .invalidParams, "field \"\(spec.name)\" is required", expected: spec.kind.expectation,
                        field: spec.name)
                }
                continue
            }
            if case .ignored = spec.kind {
                warnings.append("parameter \"\(spec.name)\" is accepted but has no effect")
                continue
            }
            out.values[spec.name] = try check(raw, kind: spec.kind, field: spec.name)
        }
        return (out, warnings)
    }

    /// How a received value reads in a message: `the string "12"`, `3.5`, `true`, `an array`.
    public static func describe(_ v: JSON) -> String {
        switch v.unwrapped {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return "\(d)"
        case .string(let s): return "the string \(quoted(s))"
        case .array: return "an array"
        case .object, .preserialized: return "an object"
        }
    }

    static func wrong(_ field: String, _ v: JSON, _ kind: ParamKind) -> CodestratorError {
        CodestratorError(
            .invalidParams, "field \"\(field)\" is \(describe(v))", expected: kind.expectation, field: field)
    }

    static func check(_ v: JSON, kind: ParamKind, field: String) throws -> JSON {
        switch kind {
        case .id:
            guard let i = v.intValue else {
                throw CodestratorError(
                    .invalidParams, "field \"\(field)\" is \(describe(v))", expected: "an integer", field: field)
            }
            guard i >= 1, i <= maxId else {
                throw CodestratorError(
                    .invalidParams, "field \"\(field)\" is \(i)", expected: kind.expectation, field: field)
            }
            return .int(i)
        case .int(let lo, let hi):
            guard let i = v.intValue else {
                throw CodestratorError(
                    .invalidParams, "field \"\(field)\" is \(describe(v))", expected: "an integer", field: field)
            }
            guard i >= lo, i <= hi else {
                throw CodestratorError(
                    .invalidParams, "field \"\(field)\" is \(i)", expected: kind.expectation, field: field)
            }
            return .int(i)
        case .bool:
            guard case .bool = v else { throw wrong(field, v, kind) }
            return v
        case .name(let maxChars):
            guard let s = v.stringValue else { throw wrong(field, v, kind) }
            let t = s.trimmedWhitespace()
            try checkLine(t, field: field, kind: kind, maxChars: maxChars, allowEmpty: false)
            return .string(t)
        case .title(let maxChars):
            guard let s = v.stringValue else { throw wrong(field, v, kind) }
            let t = s.trimmedWhitespace(newlines: true)
            try checkLine(t, field: field, kind: kind, maxChars: maxChars, allowEmpty: false)
            return .string(t)
        case .text(let maxBytes):
            guard let s = v.stringValue else { throw wrong(field, v, kind) }
            try checkText(s, field: field, kind: kind, maxBytes: maxBytes, paneSafe: false)
            return v
        case .paneText(let maxBytes):
            guard let s = v.stringValue else { throw wrong(field, v, kind) }
            try checkText(s, field: field, kind: kind, maxBytes: maxBytes, paneSafe: true)
            return v
        case .path:
            guard let s = v.stringValue else { throw wrong(field, v, kind) }
            let t = s.trimmedWhitespace()
            guard !t.isEmpty, t.utf8.count <= 1024, !t.unicodeScalars.contains(where: isControl) else {
                throw CodestratorError(
                    .invalidParams, "field \"\(field)\" is \(quoted(t))", expected: kind.expectation, field: field)
            }
            return .string(t)
        case .branch:
            guard let s = v.stringValue else { throw wrong(field, v, kind) }
            let t = s.trimmedWhitespace()
            if let problem = BranchName.problem(t) {
                throw CodestratorError(
                    .invalidParams, "field \"\(field)\" is \(quoted(t))", expected: "a branch name \(problem)",
                    field: field)
            }
            return .string(t)
        case .enumeration(let values, let aliases, let upper):
            guard let s = v.stringValue else { throw wrong(field, v, kind) }
            var t = s.trimmedWhitespace()
            if upper { t = t.uppercased() }
            if let a = aliases[t] { t = a }
            guard values.contains(t) else {
                throw CodestratorError(
                    .invalidParams, "field \"\(field)\" is \(quoted(s))", expected: kind.expectation, field: field)
            }
            return .string(t)
        case .array(let element, let maxCount):
            guard let a = v.arrayValue else { throw wrong(field, v, kind) }
            guard a.count <= maxCount else {
                throw CodestratorError(
                    .invalidParams, "field \"\(field)\" has \(a.count) elements", expected: kind.expectation,
                    field: field)
            }
            var out: [JSON] = []
            for (i, e) in a.enumerated() {
                out.append(try check(e, kind: element, field: "\(field)[\(i)]"))
            }
            return .array(out)
        case .json:
            guard v.serializedBytes().count <= maxJSONBytes else {
                throw CodestratorError(
                    .invalidParams, "field \"\(field)\" is larger than \(maxJSONBytes) bytes",
                    expected: kind.expectation, field: field)
            }
            return v
        case .object:
            guard case .object = v else { throw wrong(field, v, kind) }
            guard v.serializedBytes().count <= maxJSONBytes else {
                throw CodestratorError(
                    .invalidParams, "field \"\(field)\" is larger than \(maxJSONBytes) bytes",
                    expected: "a JSON object of at most \(maxJSONBytes) bytes", field: field)
            }
            return v
        case .ignored:
            return v
        }
    }

    static func isControl(_ u: Unicode.Scalar) -> Bool { u.value < 0x20 || (0x7F...0x9F).contains(u.value) }

    static func checkLine(_ t: String, field: String, kind: ParamKind, maxChars: Int, allowEmpty: Bool) throws {
        if t.isEmpty && !allowEmpty {
            throw CodestratorError(
                .invalidParams, "field \"\(field)\" is empty", expected: kind.expectation, field: field)
        }
        if t.count > maxChars {
            throw CodestratorError(
                .invalidParams, "field \"\(field)\" has \(t.count) characters", expected: kind.expectation,
                field: field)
        }
        if t.unicodeScalars.contains(where: isControl) {
            throw CodestratorError(
                .invalidParams, "field \"\(field)\" is \(quoted(t)) with a control character",
                expected: kind.expectation, field: field)
        }
    }

    static func checkText(_ s: String, field: String, kind: ParamKind, maxBytes: Int, paneSafe: Bool) throws {
        if s.utf8.count > maxBytes {
            throw CodestratorError(
                .invalidParams, "field \"\(field)\" has \(s.utf8.count) bytes", expected: kind.expectation,
                field: field)
        }
        let bad = s.unicodeScalars.contains { u in
            u.value == 0 || (paneSafe && isControl(u) && u != "\n" && u != "\t")
        }
        if bad {
            throw CodestratorError(
                .invalidParams, "field \"\(field)\" contains a \(paneSafe ? "control" : "NUL") character",
                expected: kind.expectation, field: field)
        }
    }

    /// The declared name nearest to an unknown key (edit distance ≤ 2), for "did you mean".
    /// The declared name `key` misspells: the same letters in another case or spelling (`userRequest`,
    /// `User-Request`), else the closest name within two edits.
    static func nearMiss(_ key: String, in names: [String]) -> String? {
        func folded(_ s: String) -> String { String(s.lowercased().filter { $0 != "_" && $0 != "-" }) }
        let f = folded(key)
        if let same = names.first(where: { folded($0) == f }) { return same }
        return closest(key, in: names)
    }

    static func closest(_ key: String, in names: [String]) -> String? {
        var best: (String, Int)?
        for n in names {
            let d = editDistance(key, n)
            if d <= 2, best == nil || d < best!.1 { best = (n, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}

/// Branch-name rules that need no git (docs/protocol-eras.md#parameter-decoding rule 10); `git check-ref-format` adds the rest.
public enum BranchName {
    /// Why `name` is not acceptable, or nil.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "that is not empty" }
        if name.utf8.count > 255 { return "of at most 255 bytes" }
        if name.hasPrefix("-") { return "that does not start with -" }
        if name.hasPrefix("refs/") {
            return "that does not start with refs/ (a short name: refs/heads/main would make main ambiguous)"
        }
        if name == "HEAD" { return "other than HEAD" }
        if name.contains(where: { $0.isWhitespace }) { return "without spaces" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "without control characters"
        }
        for bad in ["..", "~", "^", ":", "?", "*", "[", "\\", "@{"] where name.contains(bad) {
            return "without \(bad)"
        }
        if name.hasSuffix(".lock") || name.hasSuffix("/") || name.hasSuffix(".") || name.hasPrefix("/")
            || name.contains("//") || name == "@" || name.split(separator: "/").contains(where: { $0.hasPrefix(".") })
        {
            return "that git accepts (check-ref-format)"
        }
        return nil
    }
}
