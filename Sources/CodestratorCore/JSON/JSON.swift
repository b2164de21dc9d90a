import Foundation

/// A JSON value whose objects keep their key order.
///
/// Results must list fields in the order the method reference gives, integers must stay
/// distinguishable from fractions, and text must not be HTML-escaped: Foundation's
/// `JSONSerialization` guarantees none of these, so the wire format is ours.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)
    /// A value together with its compact text, written as that text. A tool result carries the same
    /// object twice (as `content` text and as `structuredContent`); this writes it once. Only the
    /// reply builder makes one; every accessor and `==` see the value inside.
    case preserialized(Preserialized)

    /// The value itself, with a pre-serialized wrapper taken off.
    public var unwrapped: JSON {
        if case .preserialized(let p) = self { return p.value }
        return self
    }

    public subscript(key: String) -> JSON? {
        if case .object(let o) = unwrapped { return o[key] }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = unwrapped { return o }
        return nil
    }
    public var stringValue: String? {
        if case .string(let s) = unwrapped { return s }
        return nil
    }
    public var arrayValue: [JSON]? {
        if case .array(let a) = unwrapped { return a }
        return nil
    }
    public var boolValue: Bool? {
        if case .bool(let b) = unwrapped { return b }
        return nil
    }
    /// An integer, also when written with an integral fraction (`3.0`).
    public var intValue: Int? {
        switch unwrapped {
        case .int(let i): return i
        case .double(let d):
            guard d.rounded() == d, abs(d) <= 9_007_199_254_740_991 else { return nil }
            return Int(d)
        default: return nil
        }
    }
    public var isNull: Bool {
        if case .null = unwrapped { return true }
        return false
    }

    /// A short name of the JSON type, for error messages.
    public var typeName: String {
        switch unwrapped {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object, .preserialized: return "an object"
        }
    }

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a.unwrapped, b.unwrapped) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x == y
        default: return false
        }
    }
}

/// A JSON value and its compact serialization, made once.
public final class Preserialized: Sendable {
    public let value: JSON
    public let bytes: [UInt8]

    public init(_ value: JSON) {
        self.value = value.unwrapped
        self.bytes = self.value.serializedBytes()
    }

    /// The serialization as text (the `content` text of a tool result).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// An ordered JSON object. Lookups are linear: objects here are small.
public struct JSONObject: Sendable, Equatable {
    public private(set) var pairs: [(key: String, value: JSON)]

    public init() { pairs = [] }
    public init(_ pairs: [(String, JSON)]) {
        self.pairs = []
        for (k, v) in pairs { self[k] = v }
    }

    public subscript(key: String) -> JSON? {
        get { pairs.first(where: { $0.key == key })?.value }
        set {
            if let i = pairs.firstIndex(where: { $0.key == key }) {
                if let newValue { pairs[i].value = newValue } else { pairs.remove(at: i) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }

    mutating func reserve(_ n: Int) { pairs.reserveCapacity(n) }

    /// Appends a key the object does not have yet.
    mutating func appendDistinct(_ key: String, _ value: JSON) {
        assert(!pairs.contains { $0.key == key }, "duplicate key \(key)")
        pairs.append((key, value))
    }

    public var keys: [String] { pairs.map(\.key) }
    public var isEmpty: Bool { pairs.isEmpty }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.pairs.count == b.pairs.count else { return false }
        for (k, v) in a.pairs where b[k] != v { return false }
        return true
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
}

/// Anything that has a JSON rendering; lets result objects be written as ordered literals.
public protocol JSONConvertible {
    var json: JSON { get }
}

extension JSON: JSONConvertible { public var json: JSON { self } }
extension String: JSONConvertible { public var json: JSON { .string(self) } }
extension Int: JSONConvertible { public var json: JSON { .int(self) } }
extension Int64: JSONConvertible { public var json: JSON { .int(Int(self)) } }
extension Bool: JSONConvertible { public var json: JSON { .bool(self) } }
extension Double: JSONConvertible { public var json: JSON { .double(self) } }
extension JSONObject: JSONConvertible { public var json: JSON { .object(self) } }
extension Optional: JSONConvertible where Wrapped: JSONConvertible {
    public var json: JSON { self?.json ?? .null }
}
extension Array: JSONConvertible where Element: JSONConvertible {
    public var json: JSON { .array(map { $0.json }) }
}

extension JSON {
    /// An ordered object from key/value pairs; `nil` values become `null` (never omitted).
    public static func obj(_ pairs: KeyValuePairs<String, (any JSONConvertible)?>) -> JSON {
        // Literal keys are distinct (checked in debug builds), so they are appended without the
        // duplicate scan of the subscript, which made a wide result quadratic.
        var o = JSONObject()
        o.reserve(pairs.count)
        for (k, v) in pairs { o.appendDistinct(k, v?.json ?? .null) }
        return .object(o)
    }

    /// This object with the fields of `extra` appended (or replaced).
    public func merging(_ extra: KeyValuePairs<String, (any JSONConvertible)?>) -> JSON {
        var o = objectValue ?? JSONObject()
        for (k, v) in extra { o[k] = v?.json ?? .null }
        return .object(o)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSON)...) { self.init(elements) }
}
