import CodestratorCore
import Foundation

/// `${…}` expansion of script strings (docs/sim-agent.md).
///
/// - In text, `${name}` is replaced by the variable's text: a string as it is, a number or boolean as written,
///   an array as its items' texts joined by `", "`, an object as compact JSON; an unknown variable is empty.
/// - A JSON string that is exactly one `${name}` (nothing around it) becomes the variable's JSON value, so
///   `"case_id": "${case.id}"` passes a number. When that variable is unknown the object key is left out (an
///   optional param stays unset) and an array item becomes `null`.
/// - Paths go through objects by key and arrays by index (`${saved.ctx.changed_files.0.path}`); `*` maps over an
///   array (`${saved.ctx.changed_files.*.path}`), `#` is an array's length (`${saved.ctx.changed_files.#}`).
public enum SimExpander {
    /// Looks a variable up by its full name (`case.id`, `saved.ctx.diff`); nil when unknown.
    public typealias Lookup = (String) -> JSON?

    /// Expands every `${…}` of a text.
    public static func expand(_ text: String, _ lookup: Lookup) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            out += rest[..<open.lowerBound]
            let name = String(rest[open.upperBound..<close])
            if let v = lookup(name) { out += render(v) }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }

    /// Expands the strings inside a JSON value; nil when the value itself was a lone unknown variable.
    public static func expandValue(_ value: JSON, _ lookup: Lookup) -> JSON? {
        switch value {
        case .string(let s):
            if let name = loneVariable(s) { return lookup(name) }
            return .string(expand(s, lookup))
        case .array(let items):
            return .array(items.map { expandValue($0, lookup) ?? .null })
        case .object(let o):
            var out = JSONObject()
            for (k, v) in o.pairs {
                if let e = expandValue(v, lookup) { out[k] = e }
            }
            return .object(out)
        default:
            return value
        }
    }

    /// The name of `s` when `s` is exactly `${name}`.
    static func loneVariable(_ s: String) -> String? {
        guard s.hasPrefix("${"), s.hasSuffix("}"), s.count > 3 else { return nil }
        let name = s.dropFirst(2).dropLast()
        guard !name.contains("}"), !name.contains("${") else { return nil }
        return String(name)
    }

    /// The text of a value inside a larger string.
    public static func render(_ v: JSON) -> String {
        switch v.unwrapped {
        case .null: return ""
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .int, .double: return v.serialized()
        case .array(let items): return items.map(render).joined(separator: ", ")
        case .object, .preserialized: return v.serialized()
        }
    }

    /// Follows a dotted path (`a.0.b`, `list.*.path`, `list.#`) from a value.
    public static func resolve(_ root: JSON, path: some Collection<Substring>) -> JSON? {
        guard let head = path.first else { return root }
        let tail = path.dropFirst()
        switch root.unwrapped {
        case .object(let o):
            guard let next = o[String(head)] else { return nil }
            return resolve(next, path: tail)
        case .array(let items):
            if head == "#" { return tail.isEmpty ? .int(items.count) : nil }
            if head == "*" { return .array(items.map { resolve($0, path: tail) ?? .null }) }
            guard let i = Int(head), items.indices.contains(i) else { return nil }
            return resolve(items[i], path: tail)
        default:
            return nil
        }
    }

    /// Splits `saved.ctx.files.0` into its parts.
    public static func split(_ name: String) -> [Substring] {
        name.split(separator: ".", omittingEmptySubsequences: false)
    }
}
