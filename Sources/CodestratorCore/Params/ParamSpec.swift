/// What kind of value a parameter takes (docs/protocol-eras.md#parameter-decoding).
public indirect enum ParamKind: Sendable {
    /// A row id: an integer from 1 to 2^53−1.
    case id
    case int(min: Int, max: Int)
    case bool
    /// Identifiers, names, slugs: trimmed, ≤ `maxChars`, no control characters.
    case name(maxChars: Int)
    /// A single trimmed line, ≤ `maxChars`, no control characters.
    case title(maxChars: Int)
    /// Free text, kept verbatim (≤ `maxBytes`, no NUL).
    case text(maxBytes: Int)
    /// Text that may reach a terminal: only `\n` and `\t` as control characters.
    case paneText(maxBytes: Int)
    /// A repository path, trimmed; normalised by the method (≤ 1,024 bytes, no control characters).
    case path
    /// A git branch name (docs/protocol-eras.md#parameter-decoding rule 10; `git check-ref-format` runs in the method).
    case branch
    /// An exact lower-case enum value, with aliases normalised on input.
    case enumeration([String], aliases: [String: String] = [:], upperCase: Bool = false)
    /// An array of at most `maxCount` elements of a kind.
    case array(ParamKind, maxCount: Int)
    /// Any JSON value of at most 65,536 bytes serialised.
    case json
    /// A JSON object of at most 65,536 bytes serialised; its fields are checked by the method.
    case object
    /// Accepted for compatibility, without effect (reported as a warning).
    case ignored

    /// How the expected value reads in an error message.
    public var expectation: String {
        switch self {
        case .id: return "an integer id from 1 to 9007199254740991"
        case .int(let lo, let hi): return "an integer from \(lo) to \(hi)"
        case .bool: return "true or false"
        case .name(let n): return "a name of at most \(n) characters without control characters"
        case .title(let n): return "a single line of at most \(n) characters"
        case .text(let n): return "text of at most \(n) bytes"
        case .paneText(let n): return "text of at most \(n) bytes with no control characters but newline and tab"
        case .path: return "a repository path of at most 1024 bytes"
        case .branch: return "a branch name"
        case .enumeration(let values, _, _): return "one of \(values.joined(separator: "|"))"
        case .array(let k, let n): return "an array of at most \(n) elements, each \(k.expectation)"
        case .json: return "a JSON value of at most 65536 bytes"
        case .object: return "a JSON object"
        case .ignored: return "nothing (ignored)"
        }
    }

    /// A short type name for the method reference.
    public var docType: String {
        switch self {
        case .id: return "id"
        case .int(let lo, let hi): return "int \(lo)–\(hi)"
        case .bool: return "bool"
        case .name: return "name"
        case .title: return "title"
        case .text: return "text"
        case .paneText: return "pane text"
        case .path: return "path"
        case .branch: return "branch"
        case .enumeration(let v, _, _): return v.joined(separator: " \\| ")
        case .array(let k, _): return "[\(k.docType)]"
        case .json: return "JSON"
        case .object: return "object"
        case .ignored: return "ignored"
        }
    }
}

/// One declared parameter of a method.
public struct ParamSpec: Sendable {
    public let name: String
    public let kind: ParamKind
    public let required: Bool
    /// An explicit `null` keeps its meaning ("clear this field") instead of meaning "absent".
    public let nullable: Bool
    public let defaultValue: JSON?
    public let doc: String

    public init(
        _ name: String, _ kind: ParamKind, required: Bool = false, nullable: Bool = false, default d: JSON? = nil,
        doc: String = ""
    ) {
        self.name = name
        self.kind = kind
        self.required = required
        self.nullable = nullable
        self.defaultValue = d
        self.doc = doc
    }
}
